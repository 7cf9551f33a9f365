import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cms.web.tables import BaseTable, LocalDateColumn, LocalDateTimeColumn

from .models import Batch

STATUS_STYLES = {Batch.Status.GENERATING: "warning", Batch.Status.READY: "success", Batch.Status.FAILED: "danger"}


class BatchTable(BaseTable):
    number = tables.Column(verbose_name=_("Batch"), accessor="pk", linkify=("batches:detail", {"pk": tables.A("pk")}))
    created_at = LocalDateTimeColumn(verbose_name=_("Created"))
    quantity = tables.Column(verbose_name=_("Quantity"), attrs={"td": {"class": "text-end"}})
    period_days = tables.Column(verbose_name=_("Period (days)"), attrs={"td": {"class": "text-end"}})
    unit_price = tables.Column(verbose_name=_("Unit price"), attrs={"td": {"class": "text-end"}})
    use_by = LocalDateColumn(verbose_name=_("Use by"))
    status = tables.Column(verbose_name=_("Status"))
    created_by = tables.Column(verbose_name=_("Created by"), order_by=("created_by__username",))
    note = tables.Column(verbose_name=_("Note"), attrs={"td": {"class": "text-truncate", "style": "max-width: 20rem"}})

    class Meta(BaseTable.Meta):
        model = Batch
        # No selection column: there is no bulk action on batches.
        exclude = ("pk",)
        fields = ("number", "created_at", "quantity", "period_days", "unit_price", "use_by", "status", "created_by", "note")
        order_by = ("-created_at",)

    def render_number(self, value):
        return f"#{value}"

    def render_quantity(self, value):
        return intcomma(value)

    def render_unit_price(self, record):
        return f"{record.unit_price} {record.currency}"

    def render_status(self, record):
        label = record.get_status_display()
        if record.status == Batch.Status.GENERATING:
            label = f"{label} {record.progress_percent}%"
        return format_html(
            '<span class="badge text-bg-{}" data-status="{}">{}</span>',
            STATUS_STYLES.get(record.status, "light"), record.status, label,
        )

    def render_created_by(self, value):
        return value.get_username()
