from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import Account, ApiToken, User


@admin.register(Account)
class AccountAdmin(TreeAdmin):
    form = movenodeform_factory(Account)
    list_display = ("name", "kind", "time_zone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "account", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")
    list_select_related = ("account",)
    fieldsets = BaseUserAdmin.fieldsets + (("Keyline", {"fields": ("account", "role")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Keyline", {"fields": ("account", "role")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
