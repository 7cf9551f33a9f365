"""The Units pages: the list, a unit's timeline, and the two ways of putting codes on units
("apply codes" to a selection, "attach from CSV"). Reads go through selectors, the one write
through `codes.services.codes_attach`; no rule lives here."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from cms.errors import DomainError, Refusal
from cms.web.exports import local_time
from cms.web.views import (
    PREVIEW_ROWS,
    AccountRequiredMixin,
    BulkAction,
    BulkActionView,
    ExportColumn,
    ObjectListView,
)
from codes import services as code_services
from codes.cover import codes_seen_by, masked_code, unit_history, unit_timeline, units_for_window
from codes.models import Code, CodeState
from codes.pairing import LineError, available_periods, pair_units_with_codes, resolve_csv_lines
from codes.ratelimits import client_address
from codes.selectors import codes_visible_to
from codes.text import display

from .filtersets import UnitFilterSet
from .forms import CSV_MAX_BYTES, CSV_MAX_LINES, ApplyCodesForm, AttachCsvForm
from .selectors import units_visible_to
from .tables import UnitTable, days_left

#: Most units one "apply codes" or one CSV file may change at once.
MAX_UNITS_PER_ACTION = 1000


def _state_label(active_now: bool) -> str:
    return str(_("Active") if active_now else _("Deactivated"))


class UnitListView(ObjectListView):
    title = gettext_lazy("Units")
    url_name = "units:list"
    table_class = UnitTable
    filterset_class = UnitFilterSet
    export_filename = "units"
    export_columns = [
        ExportColumn(gettext_lazy("Name"), "name"),
        ExportColumn(gettext_lazy("Hardware id"), "hardware_id"),
        ExportColumn(gettext_lazy("Device type"), "device_type"),
        ExportColumn(gettext_lazy("Owner"), "owner__name"),
        ExportColumn(gettext_lazy("State"), "active_now", _state_label),
        ExportColumn(gettext_lazy("Current code"), "current_code_text", display),
        ExportColumn(gettext_lazy("Covered until"), local_time("covered_until")),
        ExportColumn(gettext_lazy("Scheduled codes"), "scheduled_count"),
        ExportColumn(gettext_lazy("Days left"), "covered_until", days_left),
    ]
    bulk_actions = [BulkAction(gettext_lazy("Apply codes"), "units:bulk_apply_codes", "primary")]

    def get_base_queryset(self):
        return units_for_window(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.can_write:
            context["header_links"] = [(_("Attach codes from CSV"), "units:attach_csv")]
        return context


class UnitDetailView(AccountRequiredMixin, TemplateView):
    template_name = "units/unit_detail.html"
    history_limit = 500

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        unit = get_object_or_404(units_for_window(self.request.user, now), pk=self.kwargs["pk"])
        history = list(unit_history(unit)[: self.history_limit + 1])
        timeline = unit_timeline(unit, now)
        # Codes held above the user's account show masked, without a link (DOMAIN.md, "Holder").
        seen = codes_seen_by(self.request.user, [s.code_id for s in timeline.segments] + [e.code_id for e in history if e.code_id])
        for segment in timeline.segments:
            segment.visible = segment.code_id in seen
        for event in history:
            event.code_visible = event.code_id in seen
            event.code_masked = masked_code(event.code.display_text) if event.code_id else ""
        context.update(
            unit=unit,
            timeline=timeline,
            days_left=days_left(unit.covered_until, now),
            history=history[: self.history_limit],
            history_limited=len(history) > self.history_limit,
            can_write=self.request.user.can_write,
        )
        return context


# --- putting codes on units -------------------------------------------------------------------


def _attached_message(attached: list[Code]) -> str:
    scheduled = sum(1 for c in attached if c.status == CodeState.SCHEDULED)
    started = len(attached) - scheduled
    message = ngettext(
        "%(count)d code applied.", "%(count)d codes applied.", len(attached)
    ) % {"count": len(attached)}
    parts = [message]
    if started:
        parts.append(
            ngettext("%(count)d started now.", "%(count)d started now.", started) % {"count": started}
        )
    if scheduled:
        parts.append(
            ngettext(
                "%(count)d is scheduled behind the unit's current cover.",
                "%(count)d are scheduled behind the units' current cover.",
                scheduled,
            )
            % {"count": scheduled}
        )
    return " ".join(parts)


def _attach(request, pairs: list[tuple[int, int]]) -> list[Code]:
    """Put the confirmed codes on their units: (unit id, code id) pairs, all or nothing."""
    return code_services.codes_attach(
        pairs=[(code_id, unit_id) for unit_id, code_id in pairs], actor=request.user,
        client_address=client_address(request),
    )


def _posted_pairs(data) -> list[tuple[int, int]]:
    """`pair` values are "unit id:code id" as shown on the confirmation page."""
    pairs = []
    for value in data.getlist("pair"):
        try:
            unit_id, code_id = (int(part) for part in value.split(":"))
        except ValueError:
            raise Http404 from None
        pairs.append((unit_id, code_id))
    return pairs


def _posted_lines(data, count: int) -> list[int] | None:
    """The file's line number of each confirmed pair, as the confirmation page posts them: one
    whole number per pair, each a line a file of CSV_MAX_BYTES can have. None when they are not."""
    lines = data.getlist("line")
    if len(lines) != count or not all(line.isascii() and line.isdigit() for line in lines):
        return None
    numbers = [int(line) for line in lines]
    return numbers if all(1 <= n <= CSV_MAX_BYTES for n in numbers) else None


class UnitApplyCodesView(BulkActionView):
    """Three steps, each a POST: the list page sends the selection (choose a period), the period
    gives the pairing (shown for confirmation), the confirmation attaches exactly the pairs
    shown. The service checks every pair again, all-or-nothing."""

    list_view_class = UnitListView
    template_name = "units/apply_codes.html"
    title = gettext_lazy("Apply codes to units")

    def post(self, request, *args, **kwargs):
        self.check_permission()
        try:
            queryset, hidden = self.selection()
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(self.return_url())
        units = list(queryset.order_by("name", "pk")[: MAX_UNITS_PER_ACTION + 1])
        if not units:
            messages.warning(request, _("Select at least one unit."))
            return HttpResponseRedirect(self.return_url())
        if len(units) > MAX_UNITS_PER_ACTION:
            messages.error(
                request,
                _("Apply codes to at most %(max)d units at once; narrow the filter.") % {"max": MAX_UNITS_PER_ACTION},
            )
            return HttpResponseRedirect(self.return_url())
        now = timezone.now()
        periods = available_periods(user=request.user, now=now)
        step = "_confirm" if "_confirm" in request.POST else "_pair" if "_pair" in request.POST else "choose"
        form = ApplyCodesForm(data=request.POST if step != "choose" else None, periods=periods)
        context = {
            "title": self.title,
            "units": units[:PREVIEW_ROWS],
            "count": len(units),
            "preview_limited": len(units) > PREVIEW_ROWS,
            "hidden": hidden,
            "return_url": self.return_url(),
            "form": form,
            "periods": periods,
            "step": "choose",
            "error": None,
        }
        if step == "choose" or not form.is_valid():
            if not periods:
                context["error"] = DomainError(_("You have no available codes to apply."), code="no_codes")
            return render(request, self.template_name, context, status=200 if step == "choose" else 400)
        period = form.cleaned_data["period_days"]
        if step == "_confirm":
            return self.confirm(units, period, context)
        pairing = pair_units_with_codes(user=request.user, units=units, period_days=period, now=now)
        context["pairing"] = pairing
        if pairing.unpaired:
            context["error"] = DomainError.for_refusals(
                [Refusal(f"{p.unit.name} ({p.unit.hardware_id})", p.reason, "no_code") for p in pairing.unpaired],
                len(units),
            )
            return render(request, self.template_name, context, status=409)
        context["step"] = "confirm"
        return render(request, self.template_name, context)

    def confirm(self, units, period, context):
        request = self.request
        pairs = _posted_pairs(request.POST)
        unit_ids = sorted(u.pk for u in units)
        code_ids = [code_id for _unit_id, code_id in pairs]
        # The confirmation must be for the selection shown, with codes of the period shown.
        if sorted(unit_id for unit_id, _code_id in pairs) != unit_ids:
            context["error"] = DomainError(
                _("The selection changed since the pairing was shown; pair the codes again."), code="conflict"
            )
            return render(request, self.template_name, context, status=409)
        matching = codes_visible_to(request.user).filter(pk__in=code_ids, period_days=period).count()
        if matching != len(set(code_ids)):
            raise Http404
        try:
            attached = _attach(request, pairs)
        except DomainError as error:
            context["error"] = error
            return render(request, self.template_name, context, status=409)
        messages.success(request, _attached_message(attached))
        return HttpResponseRedirect(self.return_url())


class UnitAttachCsvView(AccountRequiredMixin, View):
    """Upload `hardware id, code` lines; every line is checked and a bad one refuses the whole
    file (nothing changes); otherwise the pairs are shown for confirmation and attached
    all-or-nothing by `codes_attach`."""

    template_name = "units/attach_csv.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not getattr(request.user, "can_write", False):
            raise DjangoPermissionDenied(_("Your role can only view."))
        return super().dispatch(request, *args, **kwargs)

    def render(self, context, status=200):
        context.setdefault("form", AttachCsvForm())
        context.setdefault("errors", [])
        context.setdefault("pairs", [])
        context["max_lines"] = CSV_MAX_LINES
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        return self.render({})

    def post(self, request, *args, **kwargs):
        if "_confirm" in request.POST:
            return self.confirm()
        form = AttachCsvForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render({"form": form}, status=400)
        lines = form.parsed_lines  # at most CSV_MAX_LINES (the form checks)
        resolved = resolve_csv_lines(user=request.user, lines=lines)
        errors = sorted(form.line_errors + resolved.errors, key=lambda e: e.number)
        if errors:
            return self.render({"form": form, "errors": errors}, status=400)
        rows = [(resolved.lines[code.pk], unit, code) for unit, code in resolved.pairs]
        return self.render({"pairs": rows, "step": "confirm"})

    def confirm(self):
        request = self.request
        pairs = _posted_pairs(request.POST)
        if not pairs or len(pairs) > CSV_MAX_LINES:
            raise Http404
        lines = _posted_lines(request.POST, len(pairs))
        if lines is None:
            damaged = _("The confirmation does not name the file's lines as it was shown: upload the file again.")
            return self.render({"errors": [LineError(0, "", damaged)]}, status=400)
        units = {u.pk: u for u in units_visible_to(request.user).filter(pk__in={u for u, _c in pairs})}
        codes = {c.pk: c for c in codes_visible_to(request.user).filter(pk__in={c for _u, c in pairs})}
        if len(units) != len({u for u, _c in pairs}) or len(codes) != len({c for _u, c in pairs}):
            raise Http404
        try:
            attached = _attach(request, pairs)
        except DomainError as error:
            line_of = {}
            for (_unit_id, code_id), line in zip(pairs, lines, strict=False):
                line_of[codes[code_id].display_text] = line
            errors = [LineError(line_of.get(r.item, 0), r.item, r.reason) for r in error.refusals] or [
                LineError(0, "", error.message)
            ]
            return self.render({"errors": errors, "refused": error}, status=409)
        messages.success(request, _attached_message(attached))
        return HttpResponseRedirect(reverse("units:list"))
