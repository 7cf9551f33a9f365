"""The table of the Codes window: its columns, their headers and orders. The cells are written by
its Jinja2 template (`codes/jinja2/codes/code_table.html`) from the row
`codes.selectors.for_code_table` gives, with its unit's, holder's and batch's values as columns:
one query per page."""

import django_tables2 as tables
from django.db.models import F
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cms.web.tables import BaseTable

from .models import Code, CodeState
from .templatetags.codes_window import days_left_cell, reservation_cell, state_badge

#: Numbers are right-aligned, their headers too.
RIGHT = {"th": {"class": "text-end"}}


class CodeTable(BaseTable):
    text = tables.Column(verbose_name=_("Code"))
    state = tables.Column(verbose_name=_("State"), accessor="state", order_by=("state", "pk"))
    unit = tables.Column(verbose_name=_("Unit"), accessor="unit_name", order_by=("unit__name", "unit__pk"))
    holder = tables.Column(
        verbose_name=_("Shared with"), accessor="holder_name", order_by=("holder__name", "holder__pk", "pk")
    )
    period_days = tables.Column(verbose_name=_("Period"), order_by=("period_days", "pk"), attrs=RIGHT)
    activated_at = tables.Column(verbose_name=_("Activation"))
    expires_at = tables.Column(verbose_name=_("Expires"))
    days_left = tables.Column(verbose_name=_("Days left"), accessor="expires_at", order_by=("expires_at",), attrs=RIGHT)
    batch = tables.Column(verbose_name=_("Batch"), accessor="batch_id", order_by=("batch", "pk"))
    price = tables.Column(
        verbose_name=_("Price"), accessor="batch_unit_price", order_by=("batch__unit_price", "pk"), attrs=RIGHT
    )

    class Meta(BaseTable.Meta):
        model = Code
        fields = (
            "pk", "text", "state", "unit", "holder", "period_days", "activated_at", "expires_at", "days_left",
            "batch", "price",
        )
        # The working order: what runs out first on top; codes that never started after them.
        order_by = ("expires_at",)
        template_name = "codes/code_table.html"

    def __init__(self, *args, provider_user: bool = False, **kwargs):
        """`provider_user`: the table is a provider's user's, who sees the batch's price and opens
        the batch; below the provider a batch is a number (`User.is_provider_user`)."""
        self.provider_user = provider_user
        if not provider_user:
            kwargs["exclude"] = (*(kwargs.get("exclude") or ()), "price")
        super().__init__(*args, **kwargs)

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

    @cached_property
    def shown(self) -> dict[str, bool]:
        """The columns shown, for the template: a cell shows only when its column does."""
        return dict.fromkeys(self.columns.names(), True)

    @cached_property
    def state_badges(self) -> dict[str, str]:
        """Each state's badge, made once for the page's rows."""
        return {state: state_badge(state) for state in CodeState}

    @cached_property
    def now(self):
        return timezone.now()

    def days_left_of(self, code) -> str:
        return days_left_cell(code, self.now)

    def reservation_of(self, code) -> str:
        return reservation_cell(code, self.now)
