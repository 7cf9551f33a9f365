from django.contrib import admin

from .models import Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "hardware_id", "owner", "device_type", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "hardware_id")
    list_select_related = ("owner",)
    readonly_fields = ("is_active",)
    raw_id_fields = ("owner", "provider")
