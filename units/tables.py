import django_tables2 as tables
from django.db.models import F
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cms.web.tables import BaseTable, LocalDateTimeColumn
from codes import text as code_text
from codes.rules import whole_days

from .models import Unit


def unit_state_badge(active: bool) -> str:
    if active:
        return format_html('<span class="badge text-bg-success" data-state="active">{}</span>', _("Active"))
    return format_html('<span class="badge text-bg-secondary" data-state="deactivated">{}</span>', _("Deactivated"))


def days_left(covered_until, now=None) -> int | None:
    """Whole days of cover left (None for a unit without cover)."""
    return whole_days(covered_until - (now or timezone.now())) if covered_until else None


class UnitTable(BaseTable):
    """Every column reads an annotation of `units_for_window` or `owner` (select_related):
    one query per page, whatever its size."""

    name = tables.Column(verbose_name=_("Name"), linkify=("units:detail", {"pk": tables.A("pk")}))
    hardware_id = tables.Column(verbose_name=_("Hardware id"), attrs={"td": {"class": "code-text"}})
    owner = tables.Column(verbose_name=_("Owner"), order_by=("owner__name",))
    state = tables.Column(verbose_name=_("State"), accessor="active_now", order_by=("-active_now", "name"))
    current_code = tables.Column(verbose_name=_("Current code"), accessor="current_code_text",
                                 order_by=("current_code_text",), empty_values=(), attrs={"td": {"class": "code-text"}})
    covered_until = LocalDateTimeColumn(verbose_name=_("Covered until"))
    scheduled_count = tables.Column(verbose_name=_("Scheduled codes"), attrs={"td": {"class": "text-end"}})
    days_left = tables.Column(verbose_name=_("Days left"), accessor="covered_until", order_by=("covered_until",),
                              empty_values=(), attrs={"td": {"class": "text-end"}})

    class Meta(BaseTable.Meta):
        model = Unit
        fields = ("pk", "name", "hardware_id", "owner", "state", "current_code", "covered_until",
                  "scheduled_count", "days_left")
        order_by = ("name",)
        row_attrs = {"data-unit": lambda record: record.hardware_id}

    # No cover counts as no days left, on every database: first going up, last going down.
    def _order_cover(self, queryset, is_descending):
        expression = F("covered_until")
        expression = expression.desc(nulls_last=True) if is_descending else expression.asc(nulls_first=True)
        return queryset.order_by(expression, "name", "pk"), True

    def order_covered_until(self, queryset, is_descending):
        return self._order_cover(queryset, is_descending)

    def order_days_left(self, queryset, is_descending):
        return self._order_cover(queryset, is_descending)

    def render_state(self, value):
        return unit_state_badge(bool(value))

    def render_current_code(self, record):
        if not record.current_code_id:
            if record.active_now:  # running on a code held above the user's account
                return format_html('<span class="text-body-secondary">{}</span>', _("held above"))
            return "—"
        return format_html('<a href="{}">{}</a>', self.object_url("codes:detail", record.current_code_id),
                           code_text.display(record.current_code_text))

    def render_scheduled_count(self, value):
        return value or "—"

    def render_days_left(self, record):
        left = days_left(record.covered_until)
        return "—" if left is None else left
