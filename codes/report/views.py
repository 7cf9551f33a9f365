"""The Report (the activation-code report): the audit log as a filterable table with a
streaming CSV export. Reads only through `audit.selectors.events_visible_to`."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import DetailView

from audit.selectors import events_visible_to
from cms.web.exports import local_time
from cms.web.views import AccountRequiredMixin, ExportColumn, ObjectListView
from codes.text import display

from .filtersets import TIME_AFTER, TIME_BEFORE, EventFilterSet
from .tables import EventTable, details_pairs, details_text


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
        # Times to the second, in the account's zone (the request's), which the header names.
        zone = self.request.user.account.zone
        return [
            ExportColumn(f"{gettext_lazy('Time')} ({zone.key})", local_time("occurred_at", seconds=True)),
            ExportColumn(gettext_lazy("Action"), "action"),
            ExportColumn(gettext_lazy("Actor"), "actor_label"),
            ExportColumn(gettext_lazy("Actor's account"), "actor_account__name"),
            ExportColumn(gettext_lazy("Account"), "account__name"),
            ExportColumn(gettext_lazy("From"), "from_account__name"),
            ExportColumn(gettext_lazy("To"), "to_account__name"),
            ExportColumn(gettext_lazy("Code"), "code__text", display),
            ExportColumn(gettext_lazy("Unit"), "unit__name"),
            ExportColumn(gettext_lazy("Hardware id"), "unit__hardware_id"),
            ExportColumn(gettext_lazy("Period (days)"), "period_days"),
            ExportColumn(gettext_lazy("Activation"), local_time("activated_at", seconds=True)),
            ExportColumn(gettext_lazy("Expires"), local_time("expires_at", seconds=True)),
            ExportColumn(gettext_lazy("Client address"), "client_address"),
            ExportColumn(gettext_lazy("Details"), "details", lambda details: details_text(details) if details else ""),
            ExportColumn(f"{gettext_lazy('Written')} ({zone.key})", local_time("recorded_at", seconds=True)),
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


class EventDetailView(AccountRequiredMixin, DetailView):
    """One entry, whole: when it happened and when it was written, who, what and the details."""

    template_name = "report/event_detail.html"
    context_object_name = "event"

    def get_object(self, queryset=None):
        return get_object_or_404(
            events_visible_to(self.request.user).select_related(
                "actor_account", "account", "from_account", "to_account", "code", "unit", "batch"
            ),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = self.object
        context["details"] = [(label, value) for label, value in details_pairs(event.details or {})]
        context["written_later"] = event.recorded_at is not None and event.recorded_at - event.occurred_at >= timedelta(
            minutes=1
        )
        return context
