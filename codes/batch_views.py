"""The Batches pages: list, detail (codes by state, generation progress), generate, download.
They are the provider's own (its orders, its cost price, its notes): the users of the accounts
below are refused them. Reads through `codes.batch_selectors`, writes through
`codes.services.batch_generate`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from cms.errors import DomainError
from cms.web.exports import ExportColumn, csv_response, local_time
from cms.web.views import AccountRequiredMixin, ObjectListView

from . import services
from .batch_filtersets import BatchFilterSet
from .batch_forms import BatchGenerateForm
from .batch_selectors import batch_state_counts, batches_visible_to
from .batch_tables import BatchTable
from .models import Batch, CodeState
from .templatetags.codes_window import state_badge
from .text import display
from .use_by import local_today


class ProviderPagesMixin(AccountRequiredMixin):
    """Refuses (403) a user of an account below the provider: the page is not theirs, whichever
    batch it names. Another provider's batch stays not found (404) for a provider's users."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.account is not None and not user.is_provider_user:
            raise DjangoPermissionDenied(_("Batches are the provider's: only its own users see them."))
        return super().dispatch(request, *args, **kwargs)


class BatchListView(ProviderPagesMixin, ObjectListView):
    title = gettext_lazy("Batches")
    url_name = "batches:list"
    table_class = BatchTable
    filterset_class = BatchFilterSet
    export_filename = "batches"
    export_columns = [
        ExportColumn(gettext_lazy("Batch"), "pk"),
        ExportColumn(gettext_lazy("Created"), local_time("created_at")),
        ExportColumn(gettext_lazy("Quantity"), "quantity"),
        ExportColumn(gettext_lazy("Generated"), "generated_count"),
        ExportColumn(gettext_lazy("Period (days)"), "period_days"),
        ExportColumn(gettext_lazy("Unit price"), "unit_price"),
        ExportColumn(gettext_lazy("Currency"), "currency"),
        ExportColumn(gettext_lazy("Use by"), "use_by"),
        ExportColumn(gettext_lazy("Status"), "status", choices=Batch.Status.choices),
        ExportColumn(gettext_lazy("Note"), "note"),
    ]

    def get_base_queryset(self):
        return batches_visible_to(self.request.user).select_related("created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.is_provider_admin:
            context["header_links"] = [(_("Generate a batch"), "batches:generate")]
        return context


class BatchMixin(ProviderPagesMixin):
    def get_batch(self) -> Batch:
        return get_object_or_404(batches_visible_to(self.request.user).select_related("created_by"), pk=self.kwargs["pk"])


class BatchDetailView(BatchMixin, TemplateView):
    template_name = "batches/batch_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = self.get_batch()
        counts = batch_state_counts(user=self.request.user, batch=batch, now=timezone.now())
        codes_url = reverse("codes:list")
        context.update(
            batch=batch,
            states=[
                {"state": state, "badge": state_badge(state), "count": counts[state.value],
                 "url": f"{codes_url}?batch={batch.pk}&state={state.value}"}
                for state in CodeState
            ],
            total=sum(counts.values()),
        )
        return context


class BatchProgressView(BatchMixin, View):
    """Polled by htmx while the batch is generated in the background. When it is done the page
    reloads (HX-Refresh) to show the counts and the download."""

    def get(self, request, *args, **kwargs):
        batch = self.get_batch()
        response = render(request, "batches/_progress.html", {"batch": batch})
        if batch.status != Batch.Status.GENERATING:
            response["HX-Refresh"] = "true"
        return response


class BatchGenerateView(ProviderPagesMixin, FormView):
    template_name = "batches/batch_generate.html"
    form_class = BatchGenerateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_provider_admin:
            raise DjangoPermissionDenied(_("Only the provider's admins can generate batches."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        today = local_today(self.request.user.account.time_zone, timezone.now())
        return {**super().get_form_kwargs(), "today": today}

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            batch = services.batch_generate(
                actor=self.request.user,
                quantity=data["quantity"],
                period_days=data["period_days"],
                unit_price=data["unit_price"],
                currency=data["currency"],
                use_by=data["use_by"],
                note=data["note"],
            )
        except DomainError as error:
            for refusal in error.refusals:
                form.add_error(refusal.item if refusal.item in form.fields else None, refusal.reason)
            if not error.refusals:
                form.add_error(None, error.message)
            return self.form_invalid(form)
        if batch.status == Batch.Status.READY:
            messages.success(self.request, _("Batch #%(pk)d: %(count)d codes generated.") % {
                "pk": batch.pk, "count": batch.generated_count})
        else:
            messages.info(self.request, _("Batch #%(pk)d is being generated; this page shows the progress.") % {
                "pk": batch.pk})
        return HttpResponseRedirect(reverse("batches:detail", args=[batch.pk]))


class BatchDownloadView(BatchMixin, View):
    """The batch's codes as CSV, streamed."""

    columns = [
        ExportColumn(gettext_lazy("Code"), "text", display),
        ExportColumn(gettext_lazy("Period (days)"), "period_days"),
        ExportColumn(gettext_lazy("Use by"), "use_by"),
        ExportColumn(gettext_lazy("Batch"), "batch_id"),
    ]

    def get(self, request, *args, **kwargs):
        batch = self.get_batch()
        if batch.status != Batch.Status.READY:
            messages.warning(request, _("The batch can be downloaded once all its codes are generated."))
            return HttpResponseRedirect(reverse("batches:detail", args=[batch.pk]))
        codes = batch.codes.order_by("pk")
        return csv_response(codes, self.columns, f"batch-{batch.pk}-codes")
