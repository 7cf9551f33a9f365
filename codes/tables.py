"""The table of the Codes window. Every column reads the code's row as `codes.selectors.for_code_table`
gives it, with its unit's, holder's and batch's values as columns: one query per page, whatever
the page size."""

import django_tables2 as tables
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cms.html import format_html
from cms.tables import BaseTable, LocalDateTimeColumn

from .models import Code, CodeState

STATE_STYLES = {
    CodeState.AVAILABLE: "available",
    CodeState.SCHEDULED: "scheduled",
    CodeState.RUNNING: "running",
    CodeState.RELEASED: "released",
    CodeState.EXPIRED: "expired",
    CodeState.REVOKED: "revoked",
}

#: Days left at or under which the column warns.
SOON_DAYS = 7
WARN_DAYS = 30


def state_badge(state: str, label: str | None = None) -> str:
    """`label`: the state's label already translated (a table translates each label once per page)."""
    return format_html(
        '<span class="badge state-badge state-{}" data-state="{}">{}</span>',
        STATE_STYLES.get(state, "expired"),
        state,
        CodeState(state).label if label is None else label,
    )


def days_left(code: Code, now=None) -> int | None:
    """Whole days until the code expires (None before it has a start)."""
    if code.expires_at is None:
        return None
    now = now or timezone.now()
    return max(0, int((code.expires_at - now).total_seconds() // 86400))


class CodeTable(BaseTable):
    text = tables.Column(verbose_name=_("Code"), attrs={"td": {"class": "code-text"}})
    state = tables.Column(verbose_name=_("State"), accessor="state", order_by=("state", "pk"))
    unit = tables.Column(verbose_name=_("Unit"), accessor="unit_name", order_by=("unit__name", "unit__pk"))
    holder = tables.Column(
        verbose_name=_("Shared with"), accessor="holder_name", order_by=("holder__name", "holder__pk", "pk")
    )
    period_days = tables.Column(verbose_name=_("Period"), order_by=("period_days", "pk"), attrs={"th": {"class": "text-end"}, "td": {"class": "text-end tabular"}})
    activated_at = LocalDateTimeColumn(verbose_name=_("Activation"))
    expires_at = LocalDateTimeColumn(verbose_name=_("Expires"))
    days_left = tables.Column(
        verbose_name=_("Days left"), accessor="expires_at", order_by=("expires_at",), empty_values=(),
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end tabular"}},
    )
    batch = tables.Column(verbose_name=_("Batch"), accessor="batch_id", order_by=("batch", "pk"))
    price = tables.Column(
        verbose_name=_("Price"), accessor="batch_unit_price", order_by=("batch__unit_price", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end tabular"}},
    )

    class Meta(BaseTable.Meta):
        model = Code
        fields = (
            "pk", "text", "state", "unit", "holder", "period_days", "activated_at", "expires_at", "days_left",
            "batch", "price",
        )
        # The working order: what runs out first on top; codes that never started after them.
        order_by = ("expires_at",)
        row_attrs = {"data-state": lambda record: getattr(record, "state", "")}

    # Times sort with the codes that have none (never started) last, both ways, and the id
    # breaks ties so pages never repeat or skip a row.
    def _nulls_last(self, queryset, field, is_descending):
        column = F(field)
        ordered = column.desc(nulls_last=True) if is_descending else column.asc(nulls_last=True)
        return queryset.order_by(ordered, "-pk" if is_descending else "pk"), True

    def order_activated_at(self, queryset, is_descending):
        return self._nulls_last(queryset, "activated_at", is_descending)

    def order_expires_at(self, queryset, is_descending):
        return self._nulls_last(queryset, "expires_at", is_descending)

    def order_days_left(self, queryset, is_descending):
        return self._nulls_last(queryset, "expires_at", is_descending)

    def order_unit(self, queryset, is_descending):
        return self._nulls_last(queryset, "unit__name", is_descending)

    # The links are written here rather than by `linkify`, which reverses a URL per cell: the
    # rows of a page differ only by their ids (`object_url`).
    def render_text(self, record):
        return format_html('<a href="{}">{}</a>', self.object_url("codes:detail", record.pk), record.display_text)

    # The words every row repeats, translated once per page: a lazy string is translated again
    # each time it is written, about 4 us, and fifty rows wrote three of them (issue 7).
    @cached_property
    def _texts(self) -> dict:
        return {"day": str(_("d")), "states": {value: str(label) for value, label in CodeState.choices}}

    def render_state(self, value):
        return state_badge(value, self._texts["states"].get(value))

    def render_unit(self, record):
        return format_html(
            '<a href="{}">{}</a> <span class="text-body-secondary small hardware-id">{}</span>',
            self.object_url("units:detail", record.unit_id), record.unit_name, record.unit_hardware_id,
        )

    def render_period_days(self, value):
        return format_html("{}&nbsp;{}", value, self._texts["day"])

    def render_days_left(self, record):
        left = days_left(record)
        if left is None or getattr(record, "state", None) in (CodeState.EXPIRED, CodeState.REVOKED):
            return "—"
        style = "days-soon" if left <= SOON_DAYS else "days-warn" if left <= WARN_DAYS else ""
        return format_html('<span class="{}">{}</span>', style, left)

    def render_batch(self, record):
        return format_html('<a href="{}">#{}</a>', self.object_url("batches:detail", record.batch_id), record.batch_id)

    # A page's codes come from a few batches: each batch's price is formatted once per page
    # (localised number formatting was the dearest cell of the row).
    @cached_property
    def _prices(self) -> dict:
        return {}

    def render_price(self, record):
        key = (record.batch_unit_price, record.batch_currency)
        if key not in self._prices:
            self._prices[key] = format_html(
                '{}&nbsp;<span class="text-body-secondary">{}</span>',
                number_format(record.batch_unit_price, 2, force_grouping=True), record.batch_currency,
            )
        return self._prices[key]
