"""The Codes window: list, detail and bulk actions. Reads through selectors, writes through
`codes.services`; no rule lives here."""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import DetailView

from cms.web.exports import local_time, time_left
from cms.web.views import AccountRequiredMixin, BulkAction, BulkActionView, ExportColumn, ObjectListView

from . import services
from . import text as code_text
from .cover import units_a_release_deactivates
from .filtersets import DEFAULT_STATES, CodeFilterSet
from .forms import RevokeForm, ShareForm
from .models import FINAL_STATES, CodeState
from .rules import code_state, reservation_of
from .selectors import codes_visible_to, for_code_table, with_state
from .tables import CodeTable
from .templatetags.codes_window import days_left_shown

SHARE = BulkAction(gettext_lazy("Share"), "codes:bulk_share")
RECALL = BulkAction(gettext_lazy("Recall"), "codes:bulk_recall", "outline-secondary")
RELEASE = BulkAction(gettext_lazy("Release"), "codes:bulk_release", "outline-warning")
REVOKE = BulkAction(gettext_lazy("Revoke"), "codes:bulk_revoke", "outline-danger", needs_provider_admin=True)
# Its page takes the ticked codes only, not "all matching".
SEND = BulkAction(gettext_lazy("Send by e-mail"), "mail:send", "outline-dark", selected_only=True)
CANCEL_RESERVATION = BulkAction(gettext_lazy("Cancel reservation"), "codes:bulk_cancel_reservation", "outline-secondary")
#: How many deactivated units a release's message names.
NAMED_UNITS = 10


class CodeListView(ObjectListView):
    title = gettext_lazy("Activation codes")
    url_name = "codes:list"
    table_class = CodeTable
    filterset_class = CodeFilterSet
    export_filename = "codes"
    export_columns = [
        ExportColumn(gettext_lazy("Code"), "text", code_text.display),
        ExportColumn(gettext_lazy("State"), "state", choices=CodeState.choices),
        ExportColumn(gettext_lazy("Unit"), "unit__name"),
        ExportColumn(gettext_lazy("Hardware id"), "unit__hardware_id"),
        ExportColumn(gettext_lazy("Shared with"), "holder__name"),
        ExportColumn(gettext_lazy("Period (days)"), "period_days"),
        ExportColumn(gettext_lazy("Activation"), local_time("activated_at")),
        ExportColumn(gettext_lazy("Expires"), local_time("expires_at")),
        ExportColumn(gettext_lazy("Days left"), ("state", time_left("expires_at")), days_left_shown),
        ExportColumn(gettext_lazy("Use by"), "use_by"),
        ExportColumn(gettext_lazy("Batch"), "batch_id"),
        ExportColumn(gettext_lazy("Price"), "batch__unit_price"),
        ExportColumn(gettext_lazy("Currency"), "batch__currency"),
    ]
    bulk_actions = [SHARE, RECALL, RELEASE, REVOKE, SEND, CANCEL_RESERVATION]

    def get_base_queryset(self):
        return with_state(codes_visible_to(self.request.user))

    def get_table_rows(self, queryset):
        return for_code_table(queryset)

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "provider_user": self.request.user.is_provider_user}

    def get_export_columns(self):
        if self.request.user.is_provider_user:
            return self.export_columns
        # The batch's price is the provider's (User.is_provider_user), as in the table.
        return [column for column in self.export_columns if column.field not in ("batch__unit_price", "batch__currency")]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.account.is_customer:
            # An end customer has nobody below to share with or recall from.
            context["bulk_actions"] = [a for a in context["bulk_actions"] if a not in (SHARE, RECALL)]
        context["subtitle"] = _("Times in %(zone)s") % {"zone": timezone.get_current_timezone_name()}
        return context

    def get_filter_note(self, filterset) -> str:
        if set(filterset.chosen_states) == set(DEFAULT_STATES):
            return _("Expired and revoked codes are hidden; tick them under State to see them.")
        return ""


class CodeDetailView(AccountRequiredMixin, DetailView):
    template_name = "codes/code_detail.html"
    context_object_name = "code"

    def get_object(self, queryset=None):
        return get_object_or_404(
            codes_visible_to(self.request.user).select_related("holder", "unit", "batch"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        code = self.object
        state = code_state(code)
        reservation = reservation_of(code, state=state)
        user = self.request.user
        context.update(
            state=state,
            reservation=reservation,
            days_left=days_left_shown(state, code.expires_at - timezone.now() if code.expires_at else None),
            events=code.events.select_related(
                "actor", "actor_account", "unit", "from_account", "to_account"
            ).order_by("occurred_at", "pk"),
            # A final code has nothing left to do (the services would refuse every action).
            actions=[]
            if state in FINAL_STATES
            else [
                a for a in (SHARE, RECALL, RELEASE, REVOKE, SEND, *([CANCEL_RESERVATION] if reservation else []))
                if a.allowed_for(user) and a.url is not None
            ],
        )
        return context


class CodeBulkActionView(BulkActionView):
    list_view_class = CodeListView

    def get_summary(self, queryset):
        counts = dict(queryset.order_by().values_list("state").annotate(n=Count("pk")))
        return [(CodeState(state).label, counts[state]) for state in CodeState.values if counts.get(state)]

    def code_ids(self, queryset) -> list[int]:
        return list(queryset.order_by("pk").values_list("pk", flat=True))


class CodeBulkShareView(CodeBulkActionView):
    form_class = ShareForm
    title = gettext_lazy("Share codes")
    confirm_label = gettext_lazy("Share")
    explanation = gettext_lazy(
        "The codes move down the tree to the account you choose; it and the accounts above it will see them. "
        "Only codes on no unit can be shared; a released code keeps its clock running."
    )

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def perform(self, queryset, form):
        account = form.cleaned_data["account"]
        count = services.codes_share(codes=self.code_ids(queryset), to_account=account, actor=self.request.user)
        return ngettext(
            "%(count)d code is now shared with %(account)s.", "%(count)d codes are now shared with %(account)s.", count
        ) % {"count": count, "account": account.name}


class CodeBulkRecallView(CodeBulkActionView):
    title = gettext_lazy("Recall codes")
    confirm_label = gettext_lazy("Recall")
    explanation = gettext_lazy(
        "The codes come back to your own account. Only codes on no unit can be recalled; a released code "
        "keeps its clock running."
    )

    def perform(self, queryset, form):
        count = services.codes_recall(codes=self.code_ids(queryset), actor=self.request.user)
        return ngettext(
            "%(count)d code recalled to %(account)s.", "%(count)d codes recalled to %(account)s.", count
        ) % {"count": count, "account": self.request.user.account.name}


def _deactivated_message(units) -> str:
    """The units a release left without cover, by name: "Units A, B and 3 more are now deactivated." """
    names = [unit.name for unit in units[:NAMED_UNITS]]
    if len(units) > NAMED_UNITS:
        names.append(_("%(count)d more") % {"count": len(units) - NAMED_UNITS})
    return ngettext(
        "Unit %(units)s is now deactivated.", "Units %(units)s are now deactivated.", len(units)
    ) % {"units": get_text_list(names, _("and"))}


class CodeBulkReleaseView(CodeBulkActionView):
    template_name = "codes/release_confirm.html"
    title = gettext_lazy("Release codes from their units")
    confirm_label = gettext_lazy("Release")
    confirm_style = "warning"
    explanation = gettext_lazy(
        "A running code keeps its clock (nothing is refunded) and can go onto another unit until it expires; "
        "a scheduled code becomes available again. The units' other codes move forward so their cover has no gap."
    )

    def get_extra_context(self, queryset) -> dict:
        # The units whose cover ends, named before the release is confirmed.
        return {"deactivating": units_a_release_deactivates(queryset)}

    def perform(self, queryset, form):
        result = services.codes_release(codes=self.code_ids(queryset), actor=self.request.user)
        released = result.codes
        running = sum(1 for c in released if c.status == CodeState.RELEASED)
        message = ngettext(
            "%(count)d code released from its unit.", "%(count)d codes released from their units.", len(released)
        ) % {"count": len(released)}
        parts = [message]
        if running:
            parts.append(
                ngettext(
                    "%(count)d keeps running on its own clock.", "%(count)d keep running on their own clock.", running
                ) % {"count": running}
            )
        if len(released) - running:
            parts.append(
                ngettext(
                    "%(count)d had not started and is available again.",
                    "%(count)d had not started and are available again.",
                    len(released) - running,
                ) % {"count": len(released) - running}
            )
        if result.deactivated:
            parts.append(_deactivated_message(result.deactivated))
        return " ".join(parts)


class CodeBulkRevokeView(CodeBulkActionView):
    form_class = RevokeForm
    title = gettext_lazy("Revoke codes")
    confirm_label = gettext_lazy("Revoke for good")
    confirm_style = "danger"
    needs_provider_admin = True
    explanation = gettext_lazy("Revoked codes can never be used. Only codes that never started can be revoked.")

    def perform(self, queryset, form):
        count = services.codes_revoke(
            codes=self.code_ids(queryset), actor=self.request.user, reason=form.cleaned_data.get("reason", ""),
        )
        return ngettext("%(count)d code revoked.", "%(count)d codes revoked.", count) % {"count": count}


class CodeBulkCancelReservationView(CodeBulkActionView):
    title = gettext_lazy("Cancel reservations")
    confirm_label = gettext_lazy("Cancel the reservations")
    explanation = gettext_lazy(
        "These codes were sent by e-mail and are kept for their recipient. Cancelling frees them: they can be "
        "applied, shared, recalled or revoked again, and automatic choices may take them. The e-mail's link "
        "still works while a code is unused."
    )

    def perform(self, queryset, form):
        count = services.codes_reservation_cancel(codes=self.code_ids(queryset), actor=self.request.user)
        return ngettext(
            "%(count)d reservation cancelled.", "%(count)d reservations cancelled.", count
        ) % {"count": count}
