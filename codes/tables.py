import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cms.tables import BaseTable

from .models import Code, CodeState

STATE_STYLES = {
    CodeState.AVAILABLE: "success",
    CodeState.SCHEDULED: "info",
    CodeState.RUNNING: "primary",
    CodeState.RELEASED: "warning",
    CodeState.EXPIRED: "secondary",
    CodeState.REVOKED: "danger",
}


def state_badge(state: str) -> str:
    return format_html(
        '<span class="badge state-badge text-bg-{}" data-state="{}">{}</span>',
        STATE_STYLES.get(state, "light"),
        state,
        CodeState(state).label,
    )


class CodeTable(BaseTable):
    text = tables.Column(verbose_name=_("Code"), linkify=("codes:detail", {"pk": tables.A("pk")}), attrs={"td": {"class": "code-text"}})
    state = tables.Column(verbose_name=_("State"), accessor="state", order_by=("state",))
    unit = tables.Column(verbose_name=_("Unit"), linkify=("units:detail", {"pk": tables.A("unit_id")}))
    holder = tables.Column(verbose_name=_("Shared with"), order_by=("holder__name",))
    period_days = tables.Column(verbose_name=_("Period (days)"))
    activated_at = tables.DateTimeColumn(verbose_name=_("Activation"), short=True)
    expires_at = tables.DateTimeColumn(verbose_name=_("Expires"), short=True)
    days_left = tables.Column(verbose_name=_("Days left"), accessor="expires_at", order_by=("expires_at",), empty_values=())
    batch = tables.Column(verbose_name=_("Batch"), linkify=("batches:detail", {"pk": tables.A("batch_id")}))
    price = tables.Column(verbose_name=_("Price"), accessor="batch__unit_price", order_by=("batch__unit_price",))

    class Meta(BaseTable.Meta):
        model = Code
        fields = ("pk", "text", "state", "unit", "holder", "period_days", "activated_at", "expires_at", "days_left", "batch", "price")
        order_by = ("-pk",)

    def render_text(self, record):
        return record.display_text

    def render_state(self, value):
        return state_badge(value)

    def render_days_left(self, record):
        if record.expires_at is None:
            return "—"
        seconds = (record.expires_at - timezone.now()).total_seconds()
        return max(0, int(seconds // 86400))

    def render_price(self, record):
        return f"{record.batch.unit_price} {record.batch.currency}"
