"""Generic views of the window, written once (NetBox style): a list view is a declaration of
its scoped queryset, filterset, table, export columns and bulk actions; a bulk action view is a
declaration of its form and the one service call it makes.

Rows for a bulk action come either as posted `pk`s or as "all matching the current filter",
which re-runs the list's filterset on the server (never trusting a list of ids from the
browser). Posted ids outside the user's part of the tree make the whole request a 404.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import InvalidPage
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.paginators import LazyPaginator

from cms.errors import DomainError

from .exports import ExportColumn, export_response

__all__ = ["BulkAction", "BulkActionView", "ExportColumn", "ObjectListView"]

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 25
PREVIEW_ROWS = 50
#: The most rows a database query can skip (a signed 64-bit OFFSET).
_MAX_OFFSET = 2**63 - 1


class NotAPage(InvalidPage):
    """A page number no list can have; the list answers 400 (`ObjectListView.get`)."""


def page_number(text: str, per_page: int) -> int:
    """The page a list's ?page= asks for: a whole number from 1 whose rows a database can skip
    to. django-tables2 would quietly show the first page for "abc" or 0, and pass 20 digits on to
    the database as an offset it cannot take."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _MAX_OFFSET // per_page:
        raise NotAPage(_("%(page)s is not a page of this list: pages are numbered 1, 2, 3 and so on.")
                       % {"page": text[:30]})
    return int(text)


def bad_request(request, reason: str):
    """The 400 page of the app's layout, saying what was wrong with what the request asked."""
    return render(request, "400.html", {"exception": reason}, status=400)


@dataclass(frozen=True)
class BulkAction:
    label: str
    url_name: str
    style: str = "outline-primary"
    # Who sees the button; the service still decides what is allowed.
    needs_write: bool = True
    needs_provider_admin: bool = False
    # True for actions whose page takes posted `pk`s only (not "all matching the filter"):
    # the button is disabled while "all matching" is ticked.
    selected_only: bool = False

    @property
    def url(self) -> str | None:
        """The action's URL, or None when no route has its name (the button is then left out)."""
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None

    def allowed_for(self, user) -> bool:
        if self.needs_write and not getattr(user, "can_write", False):
            return False
        if self.needs_provider_admin and not getattr(user, "is_provider_admin", False):
            return False
        return True


class AccountRequiredMixin(LoginRequiredMixin):
    """Signed in, with an active account (platform superusers without one use /admin/)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            account = getattr(request.user, "account", None)
            if account is None:
                raise DjangoPermissionDenied(_(
                    "Your user belongs to no account, and Keyline's pages show an account's part of the network. "
                    "Platform administrators work in the Django admin."
                ))
            if not account.is_active:
                raise DjangoPermissionDenied(_("Your account is disabled."))
        return super().dispatch(request, *args, **kwargs)


def _display_filter_value(field, value) -> str:
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, slice):
        start = formats.date_format(timezone.localtime(value.start), "Y-m-d") if value.start else "…"
        stop = formats.date_format(timezone.localtime(value.stop), "Y-m-d") if value.stop else "…"
        return f"{start} – {stop}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, QuerySet):
        return ", ".join(str(v) for v in value)
    # A choice field's cleaned value is text, whatever the type of its choices' values.
    choices = {str(key): label for key, label in getattr(field, "choices", [])}
    if isinstance(value, list | tuple):
        return ", ".join(str(choices.get(str(v), v)) for v in value)
    return str(choices.get(str(value), value))


class ObjectListView(AccountRequiredMixin, SingleTableMixin, FilterView):
    template_name = "generic/object_list.html"
    paginator_class = LazyPaginator
    title = ""
    url_name = ""  # this page's URL name, e.g. "codes:list"
    export_columns: list[ExportColumn] = []
    export_filename = "export"
    bulk_actions: list[BulkAction] = []
    # Extra buttons at the top right: (label, url name).
    header_links: list[tuple[str, str]] = []

    def get_base_queryset(self):
        """The user's visible rows, from a selector. Subclasses must define it."""
        raise NotImplementedError

    def get_queryset(self):
        return self.get_base_queryset()

    def get_table_rows(self, queryset):
        """The rows as the table reads them (what to select or join for its columns): for this
        page's table and for the bulk actions' preview of the same table."""
        return queryset

    def get_table_data(self):
        return self.get_table_rows(super().get_table_data())

    def get_page_size(self) -> int:
        try:
            size = int(self.request.GET.get("per_page", DEFAULT_PAGE_SIZE))
        except ValueError:
            return DEFAULT_PAGE_SIZE
        return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        # django-tables2 would take any ?per_page= as is (100000 rows on one page); the size is
        # chosen by get_page_size from PAGE_SIZES only, so the table reads a parameter nobody sends.
        kwargs.setdefault("per_page_field", "_per_page_not_from_request")
        return kwargs

    def get_table_pagination(self, table):
        per_page = self.get_page_size()
        if page := self.request.GET.get(table.prefixed_page_field, ""):
            page_number(page, per_page)  # refused before django-tables2 reads it its own way
        return {"per_page": per_page, "paginator_class": self.paginator_class}

    def get(self, request, *args, **kwargs):
        kind = request.GET.get("export")
        if kind in ("csv", "xlsx") and self.export_columns:
            filterset = self.get_filterset(self.get_filterset_class())
            if filterset.is_valid():
                columns = self.get_export_columns()
                return export_response(kind, self.get_export_queryset(filterset.qs), columns, self.export_filename)
        try:
            return super().get(request, *args, **kwargs)
        except NotAPage as error:
            return bad_request(request, str(error))

    def get_export_columns(self) -> list[ExportColumn]:
        """The export's columns for this user: those of the table the user sees."""
        return self.export_columns

    def get_export_queryset(self, queryset):
        """The filtered rows in the order the table shows them (its ?sort= or default order)."""
        table = self.get_table_class()(queryset, **self.get_table_kwargs())
        RequestConfig(self.request, paginate=False).configure(table)
        return table.data.data

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for key in ("page", "export"):
            query.pop(key, None)
        filterset = context.get("filter")
        context.update(
            title=self.title,
            page_sizes=PAGE_SIZES,
            page_size=self.get_page_size(),
            filter_query=query.urlencode(),
            bulk_actions=[
                a for a in self.bulk_actions if a.allowed_for(self.request.user) and a.url is not None
            ],
            can_export=bool(self.export_columns),
            header_links=self.header_links,
            active_filters=self.get_active_filters(filterset) if filterset is not None else [],
            filter_note=self.get_filter_note(filterset) if filterset is not None and not filterset.errors else "",
        )
        return context

    def get_filter_note(self, filterset) -> str:
        """A line above the table saying what the view hides by default ("" for nothing)."""
        return ""

    def get_active_filters(self, filterset) -> list[dict]:
        """The filters in force, as chips: label, value shown, and the URL without that filter."""
        if not filterset.is_bound or not filterset.form.is_valid():
            return []
        chips = []
        data = filterset.form.cleaned_data
        for name, field in filterset.form.fields.items():
            value = data.get(name)
            if value in (None, "", [], False) or (isinstance(value, slice) and value.start is None and value.stop is None):
                continue
            query = self.request.GET.copy()
            for key in list(query.keys()):
                if key == name or key.startswith(f"{name}_") or key == "page":
                    query.pop(key)
            chips.append(
                {"name": name, "label": field.label, "value": _display_filter_value(field, value), "remove": query.urlencode()}
            )
        return chips


class BulkActionView(AccountRequiredMixin, View):
    """GET is not allowed: the list page POSTs the selection here; this shows what will change
    and asks for confirmation; the confirmed POST makes one all-or-nothing service call."""

    list_view_class: type[ObjectListView]
    form_class: type[forms.Form] = forms.Form
    template_name = "generic/bulk_confirm.html"
    title = ""
    confirm_label = gettext_lazy("Confirm")
    confirm_style = "primary"
    explanation = ""
    needs_write = True
    needs_provider_admin = False

    # --- what subclasses define ---------------------------------------------------------------
    def perform(self, queryset, form) -> str:
        """Call the service; return the success message. Raise DomainError to refuse."""
        raise NotImplementedError

    def get_form_kwargs(self) -> dict:
        return {}

    def get_summary(self, queryset) -> list[tuple[str, int]]:
        """What the selection is made of, shown on the confirmation page, e.g. rows by state."""
        return []

    def get_extra_context(self, queryset) -> dict:
        """More for the confirmation page (what else the action would change), which a subclass's
        template shows in the `consequences` block."""
        return {}

    # --- machinery ----------------------------------------------------------------------------
    def list_view(self) -> ObjectListView:
        view = self.list_view_class()
        view.setup(self.request)
        return view

    def check_permission(self):
        user = self.request.user
        allowed = BulkAction("", "", needs_write=self.needs_write, needs_provider_admin=self.needs_provider_admin)
        if not allowed.allowed_for(user):
            raise DjangoPermissionDenied(_("You are not allowed to do this."))

    def selection(self):
        """The selected rows, re-derived on the server. Returns (queryset, hidden fields)."""
        data = self.request.POST
        view = self.list_view()
        base = view.get_base_queryset()
        if data.get("_all") == "1":
            query = QueryDict(data.get("_query", ""))
            filterset = view.get_filterset_class()(query, queryset=base, request=self.request)
            if not filterset.is_valid():
                raise DomainError(_("The filter is not valid: %(errors)s") % {"errors": filterset.errors.as_text()})
            return filterset.qs, {"_all": "1", "_query": data.get("_query", "")}
        try:
            pks = sorted({int(pk) for pk in data.getlist("pk")})
        except ValueError:
            raise Http404 from None
        queryset = base.filter(pk__in=pks)
        if queryset.count() != len(pks):
            # Ids outside the user's part of the tree: refuse the whole request.
            raise Http404
        return queryset, {"pk": pks}

    def return_url(self) -> str:
        url = self.request.POST.get("_return", "")
        if url and url_has_allowed_host_and_scheme(url, allowed_hosts={self.request.get_host()}):
            return url
        return reverse(self.list_view_class.url_name)

    def post(self, request, *args, **kwargs):
        self.check_permission()
        try:
            queryset, hidden = self.selection()
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(self.return_url())
        count = queryset.count()
        if count == 0:
            messages.warning(request, _("Select at least one row."))
            return HttpResponseRedirect(self.return_url())
        confirmed = "_confirm" in request.POST
        form = self.form_class(data=request.POST if confirmed else None, **self.get_form_kwargs())
        error = None
        if confirmed and form.is_valid():
            try:
                message = self.perform(queryset, form)
            except DomainError as refused:
                error = refused
            else:
                messages.success(request, message)
                return HttpResponseRedirect(self.return_url())
        view = self.list_view()
        rows = view.get_table_rows(queryset)[:PREVIEW_ROWS]
        # The list's table as this user sees it there (its columns), without the checkboxes.
        kwargs = view.get_table_kwargs()
        kwargs.update(exclude=("pk", *kwargs.get("exclude", ())), orderable=False)
        preview = view.get_table_class()(rows, **kwargs)
        context = {
            "title": self.title,
            "explanation": self.explanation,
            "confirm_label": self.confirm_label,
            "confirm_style": self.confirm_style,
            "form": form,
            "count": count,
            "preview": preview,
            "preview_limited": count > PREVIEW_ROWS,
            "preview_rows": PREVIEW_ROWS,
            "hidden": hidden,
            "return_url": self.return_url(),
            "error": error,
            "summary": self.get_summary(queryset),
            "all_matching": "_all" in hidden,
            **self.get_extra_context(queryset),
        }
        return render(request, self.template_name, context, status=409 if error else 200)

    def get(self, request, *args, **kwargs):
        return HttpResponseBadRequest(_("Choose rows on the list page first."))
