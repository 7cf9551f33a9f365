"""The admin site reads; it never changes the domain. Accounts, users, tokens, units, codes,
batches, notices and the audit log change only through the product's pages and services, which
check the rules and write the audit entries (ADR 33)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Account, ApiToken, User
from .web.labels import indented_account_label


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows; no add, change or delete (a POST to a change form answers 403)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("tree_name", "kind", "time_zone", "is_active", "disabled_by", "created_at")
    list_filter = ("kind", "is_active")
    list_select_related = ("disabled_by",)
    search_fields = ("name",)
    ordering = ("path",)
    exclude = ("path", "depth", "numchild")

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, account):
        return indented_account_label(account.name, account.depth)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin, BaseUserAdmin):
    list_display = ("username", "account", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    list_select_related = ("account",)
    # No password field: not even its hash's summary, and no link to a form that would set one.
    fieldsets = (
        (None, {"fields": ("username", "account", "role")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    list_select_related = ("user",)
    fields = ("name", "user", "prefix", "created_at", "last_used_at")
