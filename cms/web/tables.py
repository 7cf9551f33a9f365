"""The base of every table in the window (NetBox style): a checkbox column named `pk` for bulk
actions, and a "select all" box in its header; a compact table under a sticky header with a
pager that never counts the rows (`templates/generic/table.html`)."""

import functools
import inspect

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .html import format_html
from .table_body import render_body, render_head


def _cache_django_tables2_signatures() -> None:
    """django-tables2 (3.0) calls `inspect.signature` on every cell's `render_*` method and every
    `attrs` callable, each time: about an eighth of the Codes window's page. The parameters of
    a function never change, so they are remembered per function (a bound method is its
    function less `self`); anything else (partials, callable objects) is inspected as before."""
    from django_tables2 import utils

    if getattr(utils.signature, "keyline_cached", False):
        return
    uncached = utils.signature

    @functools.lru_cache(maxsize=2048)
    def of_function(function):
        return uncached(function)

    def signature(fn):
        function = getattr(fn, "__func__", None)
        if function is not None and inspect.isfunction(function) and getattr(fn, "__self__", None) is not None:
            args, kwargs_name = of_function(function)
            return args[1:], kwargs_name
        if inspect.isfunction(fn):
            return of_function(fn)
        return uncached(fn)

    signature.keyline_cached = True
    utils.signature = signature


_cache_django_tables2_signatures()

#: Times in the window: unambiguous in every language, shown in the account's time zone
#: (the `date` filter converts to the time zone the middleware activated).
DATETIME_FORMAT = "Y-m-d H:i"


class SelectionColumn(tables.CheckBoxColumn):
    def __init__(self, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("exclude_from_export", True)
        kwargs.setdefault(
            "attrs",
            {
                "th__input": {"class": "form-check-input js-select-all", "aria-label": _("Select all rows on this page")},
                "td__input": {"class": "form-check-input js-select-row", "form": "bulk-form"},
                "th": {"class": "selection-column"},
                "td": {"class": "selection-column"},
            },
        )
        super().__init__(**kwargs)

    @cached_property
    def _row_label(self) -> str:
        # Translated once per page, not once per row (see `codes.tables.CodeTable._texts`); a
        # table's columns are its own copies, made when the table is.
        return str(_("Select row"))

    def render(self, value, bound_column, record):
        return format_html(
            '<input type="checkbox" name="pk" value="{}" class="form-check-input js-select-row" form="bulk-form" '
            'aria-label="{}">',
            value,
            self._row_label,
        )


class LocalDateTimeColumn(tables.DateTimeColumn):
    """A time in the account's time zone, in the window's compact format."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", DATETIME_FORMAT)
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap tabular"}})
        self.datetime_format = kwargs["format"]
        super().__init__(*args, **kwargs)

    @cached_property
    def _zone(self):
        # The account's zone, read once per page (the table's columns are its own copies): the
        # middleware activates it for the request, and each read goes through a context-local.
        return timezone.get_current_timezone()

    def render(self, value):
        # What the column's `{{ value|date:format }}` template gives, without rendering a
        # template for every cell (two such columns were a sixth of the Codes window's page).
        local = timezone.localtime(value, self._zone)
        if self.datetime_format == DATETIME_FORMAT:
            # The window's format is all digits, the same in every language: written directly,
            # it costs a tenth of `date_format` (a hundred cells on a Codes page).
            return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
        return date_format(local, self.datetime_format)


#: Stands for the id in a reversed URL (`BaseTable.object_url`); no real id has these digits.
_ID_PLACEHOLDER = 918273645546372819


class BaseTable(tables.Table):
    pk = SelectionColumn()

    def body_html(self) -> str:
        """The rows of the page, rendered in one pass (`cms.table_body`)."""
        return render_body(self)

    def head_html(self) -> str:
        """The header cells, rendered in one pass (`cms.table_body`)."""
        return render_head(self)

    def object_url(self, view_name: str, pk: int) -> str:
        """`reverse(view_name, args=[pk])` for a route whose one argument is an object's id,
        reversed once per table: a page's rows link to the same routes with other ids."""
        templates = self.__dict__.setdefault("_url_templates", {})
        if view_name not in templates:
            templates[view_name] = reverse(view_name, args=[_ID_PLACEHOLDER]).rsplit(str(_ID_PLACEHOLDER), 1)
        head, tail = templates[view_name]
        return f"{head}{int(pk)}{tail}"

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle mb-0 window-table"}
        template_name = "generic/table.html"
        empty_text = _("No rows match the filter.")

    # The pager shows "Rows 51-100" without counting the table.
    @property
    def first_row(self) -> int:
        page = getattr(self, "page", None)
        if page is None:
            return 0
        return (page.number - 1) * self.paginator.per_page + 1

    @property
    def last_row(self) -> int:
        page = getattr(self, "page", None)
        if page is None:
            return 0
        return self.first_row + len(page.object_list) - 1
