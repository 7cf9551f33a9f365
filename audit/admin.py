from django.contrib import admin

from cms.admin import ReadOnlyAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "action", "actor_label", "code", "unit", "account")
    list_filter = ("action",)
    list_select_related = ("code", "unit", "account")
    raw_id_fields = ("actor", "actor_account", "account", "from_account", "to_account", "code", "unit", "batch")
