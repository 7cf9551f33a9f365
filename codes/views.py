"""The Codes window: list, detail and bulk actions. Reads through selectors, writes through
`codes.services`; no rule lives here."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import DetailView

from cms.generic_views import AccountRequiredMixin, BulkAction, BulkActionView, ExportColumn, ObjectListView

from . import services
from .filtersets import CodeFilterSet
from .forms import RevokeForm, ShareForm
from .selectors import code_state, codes_visible_to, with_state
from .tables import CodeTable


class CodeListView(ObjectListView):
    title = gettext_lazy("Activation codes")
    url_name = "codes:list"
    table_class = CodeTable
    filterset_class = CodeFilterSet
    export_filename = "codes"
    export_columns = [
        ExportColumn(gettext_lazy("Code"), lambda c: c.display_text),
        ExportColumn(gettext_lazy("State"), lambda c: c.state),
        ExportColumn(gettext_lazy("Unit"), lambda c: c.unit.name if c.unit_id else ""),
        ExportColumn(gettext_lazy("Hardware id"), lambda c: c.unit.hardware_id if c.unit_id else ""),
        ExportColumn(gettext_lazy("Shared with"), lambda c: c.holder.name),
        ExportColumn(gettext_lazy("Period (days)"), lambda c: c.period_days),
        ExportColumn(gettext_lazy("Activation"), lambda c: c.activated_at),
        ExportColumn(gettext_lazy("Expires"), lambda c: c.expires_at),
        ExportColumn(gettext_lazy("Batch"), lambda c: c.batch_id),
        ExportColumn(gettext_lazy("Price"), lambda c: c.batch.unit_price),
        ExportColumn(gettext_lazy("Currency"), lambda c: c.batch.currency),
    ]
    bulk_actions = [
        BulkAction(gettext_lazy("Share"), "codes:bulk_share"),
        BulkAction(gettext_lazy("Recall"), "codes:bulk_recall", "outline-secondary"),
        BulkAction(gettext_lazy("Release"), "codes:bulk_release", "outline-warning"),
        BulkAction(gettext_lazy("Revoke"), "codes:bulk_revoke", "outline-danger", needs_provider_admin=True),
    ]

    def get_base_queryset(self):
        return with_state(codes_visible_to(self.request.user)).select_related("holder", "unit", "batch")


class CodeDetailView(AccountRequiredMixin, DetailView):
    template_name = "codes/code_detail.html"
    context_object_name = "code"

    def get_object(self, queryset=None):
        return get_object_or_404(
            codes_visible_to(self.request.user).select_related("holder", "unit", "batch"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["state"] = code_state(self.object)
        context["events"] = self.object.events.select_related("actor", "unit", "from_account", "to_account").order_by(
            "occurred_at", "pk"
        )
        return context


class CodeBulkShareView(BulkActionView):
    list_view_class = CodeListView
    form_class = ShareForm
    title = gettext_lazy("Share codes")
    confirm_label = gettext_lazy("Share")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def perform(self, queryset, form):
        account = form.cleaned_data["account"]
        count = services.codes_share(
            codes=list(queryset.values_list("pk", flat=True)), to_account=account, actor=self.request.user
        )
        return ngettext(
            "%(count)d code is now shared with %(account)s.", "%(count)d codes are now shared with %(account)s.", count
        ) % {"count": count, "account": account.name}


class CodeBulkRecallView(BulkActionView):
    list_view_class = CodeListView
    title = gettext_lazy("Recall codes")
    confirm_label = gettext_lazy("Recall")
    explanation = gettext_lazy("The codes come back to your own account.")

    def perform(self, queryset, form):
        count = services.codes_recall(codes=list(queryset.values_list("pk", flat=True)), actor=self.request.user)
        return ngettext("%(count)d code recalled.", "%(count)d codes recalled.", count) % {"count": count}


class CodeBulkReleaseView(BulkActionView):
    list_view_class = CodeListView
    title = gettext_lazy("Release codes from their units")
    confirm_label = gettext_lazy("Release")
    confirm_style = "warning"
    explanation = gettext_lazy(
        "A running code keeps its clock (nothing is refunded) and can go onto another unit until it expires; "
        "a scheduled code becomes available again. The units' other codes move forward so their cover has no gap."
    )

    def perform(self, queryset, form):
        released = services.codes_release(codes=list(queryset.values_list("pk", flat=True)), actor=self.request.user)
        return ngettext("%(count)d code released.", "%(count)d codes released.", len(released)) % {
            "count": len(released)
        }


class CodeBulkRevokeView(BulkActionView):
    list_view_class = CodeListView
    form_class = RevokeForm
    title = gettext_lazy("Revoke codes")
    confirm_label = gettext_lazy("Revoke for good")
    confirm_style = "danger"
    needs_provider_admin = True
    explanation = gettext_lazy("Revoked codes can never be used. Only codes that never started can be revoked.")

    def perform(self, queryset, form):
        count = services.codes_revoke(
            codes=list(queryset.values_list("pk", flat=True)), actor=self.request.user,
            reason=form.cleaned_data.get("reason", ""),
        )
        return ngettext("%(count)d code revoked.", "%(count)d codes revoked.", count) % {"count": count}


