"""Read-only: units change only through `units.services` (a hardware id normalised and unique
within its provider, a move that keeps its codes inside their holders' branches)."""

from django.contrib import admin

from cms.admin import ReadOnlyAdmin

from .models import Unit


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ("name", "hardware_id", "owner", "device_type", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "hardware_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "provider")
