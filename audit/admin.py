from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "action", "actor_label", "code", "unit", "account")
    list_filter = ("action",)
    list_select_related = ("code", "unit", "account")
    raw_id_fields = ("actor", "actor_account", "account", "from_account", "to_account", "code", "unit", "batch")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
