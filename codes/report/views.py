"""The Report (the activation-code report): the audit log as a filterable table with a
streaming CSV export. Reads only through `audit.selectors.events_visible_to`."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from cms.generic_views import ExportColumn, ObjectListView

from .filtersets import TIME_AFTER, TIME_BEFORE, EventFilterSet
from .selectors import events_visible_to
from .tables import EventTable, details_text


def _name(account):
    return account.name if account is not None else ""


class EventListView(ObjectListView):
    title = gettext_lazy("Activation-code report")
    url_name = "report:list"
    table_class = EventTable
    filterset_class = EventFilterSet
    export_filename = "report"
    template_name = "report/event_list.html"

    def get_base_queryset(self):
        return events_visible_to(self.request.user).select_related(
            "actor_account", "account", "from_account", "to_account", "code", "unit"
        )

    @property
    def export_columns(self):
        # A streamed export is written after the request's time zone is deactivated, so times
        # are converted here, with the account's zone named in the header.
        zone = self.request.user.account.zone

        def local(moment):
            return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

        return [
            ExportColumn(f"{gettext_lazy('Time')} ({zone.key})", lambda e: local(e.occurred_at)),
            ExportColumn(gettext_lazy("Action"), lambda e: e.action),
            ExportColumn(gettext_lazy("Actor"), lambda e: e.actor_label),
            ExportColumn(gettext_lazy("Actor's account"), lambda e: _name(e.actor_account)),
            ExportColumn(gettext_lazy("Account"), lambda e: _name(e.account)),
            ExportColumn(gettext_lazy("From"), lambda e: _name(e.from_account)),
            ExportColumn(gettext_lazy("To"), lambda e: _name(e.to_account)),
            ExportColumn(gettext_lazy("Code"), lambda e: e.code.display_text if e.code_id else ""),
            ExportColumn(gettext_lazy("Unit"), lambda e: e.unit.name if e.unit_id else ""),
            ExportColumn(gettext_lazy("Hardware id"), lambda e: e.unit.hardware_id if e.unit_id else ""),
            ExportColumn(gettext_lazy("Period (days)"), lambda e: e.period_days),
            ExportColumn(gettext_lazy("Activation"), lambda e: local(e.activated_at)),
            ExportColumn(gettext_lazy("Expires"), lambda e: local(e.expires_at)),
            ExportColumn(gettext_lazy("Client address"), lambda e: e.client_address or ""),
            ExportColumn(gettext_lazy("Details"), lambda e: details_text(e.details) if e.details else ""),
        ]

    def time_ranges(self) -> list[tuple[str, str, bool]]:
        """Quick time ranges (label, query string, is current), keeping the other filters."""
        zone = self.request.user.account.zone
        today = timezone.localtime(timezone.now(), zone).date()
        presets = [
            (gettext("Today"), today, today),
            (gettext("Last 7 days"), today - timedelta(days=6), today),
            (gettext("Last 30 days"), today - timedelta(days=29), today),
            (gettext("All time"), None, None),
        ]
        current = (self.request.GET.get(TIME_AFTER), self.request.GET.get(TIME_BEFORE))
        if current == (None, None):
            current = (today.isoformat(), today.isoformat())
        ranges = []
        for label, first, last in presets:
            query = self.request.GET.copy()
            for key in ("page", "export"):
                query.pop(key, None)
            values = (first.isoformat() if first else "", last.isoformat() if last else "")
            query[TIME_AFTER], query[TIME_BEFORE] = values
            ranges.append((label, query.urlencode(), values == current))
        return ranges

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["time_zone"] = self.request.user.account.time_zone
        context["time_ranges"] = self.time_ranges()
        return context
