"""Read-only admin views: codes, batches and notices change only through `codes.services`."""

from django.contrib import admin

from cms.admin import ReadOnlyAdmin

from .models import Batch, Code, ExpiryNotice


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ("text", "status", "holder", "unit", "period_days", "activated_at", "expires_at", "batch")
    list_filter = ("status", "period_days")
    search_fields = ("text",)
    list_select_related = ("holder", "unit", "batch")
    raw_id_fields = ("holder", "unit", "batch", "provider")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "provider", "quantity", "generated_count", "period_days", "unit_price", "currency", "status")
    list_select_related = ("provider",)


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyAdmin):
    list_display = ("name", "account", "days_before", "show_repeatedly")
    list_select_related = ("account",)
