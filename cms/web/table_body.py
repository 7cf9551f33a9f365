"""A page of table rows rendered in one pass.

django-tables2 renders the body cell by cell: for each of a page's cells it walks the column's
accessor again (looking for a `get_FOO_display`), recomputes the column's `<td>` attributes
(merging dictionaries, calling `get_column_class_names`) and goes through a template loop. At
50 rows by 12 columns that was half of the Codes window's page (issue 7: about 40 ms of CPU).

`render_body(table)` gives the same HTML (the same cell values, links, defaults, attributes,
localisation and escaping) and does once per column what does not change from row to row: the
`<td>` attributes (unless one of them is computed per record), the accessor, whether the value is
a choice label, which arguments its `render` asks for. Each cell still goes through the column's
own `render` / `render_FOO`, with those arguments, and its link.

`render_head(table)` writes the header row the same way: each column's `<th>` attributes, its
header and its sort link (the current query with the column's next ordering), without the
template loop and a `{% querystring_replace %}` tag per column (a twentieth of the Codes page).

`tests/codes_window/test_table_body.py` holds every table of the product to django-tables2's
own rendering of the same rows and headers.
"""

import functools

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.html import escape as django_escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.utils import A, signature

from .html import escape

#: The arguments a column's `render` may ask for, in the order `call_render` passes them.
_RENDER_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")
_MISSING = object()

#: What `{{ cell }}` does in a template (time zone, localisation, escaping).
_CONTEXT = Context(autoescape=True)


class _Column:
    """What one bound column needs to render its cells, worked out once per page."""

    def __init__(self, table, bound_column):
        self.bound = bound_column
        self.column = bound_column.column
        self.name = bound_column.name
        self.accessor = A(bound_column.accessor)
        self.path, _separator, self.remainder = self.accessor.rpartition(self.accessor.SEPARATOR)
        self.parent_accessor = A(self.path)
        self.render = bound_column.render
        # The arguments `render` asks for, read once: `call_with_appropriate` inspects the
        # signature again for every cell, a sixth of the page.
        self.render_args, self.render_takes_all = _render_signature(self.render)
        self.render_positions = tuple((arg, _RENDER_ARGUMENTS.index(arg)) for arg in self.render_args) if all(
            arg in _RENDER_ARGUMENTS for arg in self.render_args
        ) else None
        self.link = bound_column.link
        # Most `render` methods ask for the value or the record only: called with them directly
        # (without a link, which takes every argument).
        render = self.render
        self.render_value = None if self.link or self.render_takes_all else {
            frozenset({"value"}): lambda value, record: render(value=value),
            frozenset({"record"}): lambda value, record: render(record=record),
            frozenset({"value", "record"}): lambda value, record: render(value=value, record=record),
        }.get(frozenset(self.render_args))
        self.default = bound_column.default
        self.empty_values = self.column.empty_values
        self.is_link_column = isinstance(self.column, BaseLinkColumn) and self.column.text is not None
        self.localize = self.column.localize
        raw = {**table.attrs, **self.column.attrs}
        raw_td = raw.get("td", raw.get("cell", {}))
        # Attributes computed from the record must be computed per cell, as django-tables2 does.
        self.td_html = None if _has_callable(raw_td) else bound_column.attrs["td"].as_html()
        # Whether the value is a choice's label (`get_FOO_display`), per class of the parent object.
        self._display_by_class: dict[type, bool] = {}

    def uses_display(self, parent, record) -> bool:
        kind = type(parent)
        if kind not in self._display_by_class:
            try:
                field = self.accessor.get_field(record)
            except FieldDoesNotExist:
                field = None
            self._display_by_class[kind] = bool(getattr(field, "choices", ())) and callable(
                getattr(parent, f"get_{self.remainder}_display", None)
            )
        return self._display_by_class[kind]

    def cell(self, row, record):
        """The rendered cell, as `BoundRow.get_cell` gives it."""
        value = None
        remainder = self.remainder
        parent = _resolve(self.parent_accessor, record, quiet=True) if self.path else record
        display = self._display_by_class.get(type(parent))
        if display is None and isinstance(parent, Model):
            display = self.uses_display(parent, record)
        if display:
            value = getattr(parent, f"get_{remainder}_display")()
            remainder = None
        if remainder:
            try:
                value = _resolve(self.accessor, record)
            except Exception:
                if self.is_link_column:
                    return self.call_render(row, record, None)
        if value in self.empty_values:
            return self.default
        return self.call_render(row, record, value)

    def call_render(self, row, record, value):
        if self.render_value is not None:
            return self.render_value(value, record)
        arguments = (value, record, self.column, self.bound, row, row.table)
        if self.render_takes_all:
            content = self.render(**dict(zip(_RENDER_ARGUMENTS, arguments, strict=True)))
        elif self.render_positions is None:
            content = None  # as `call_with_appropriate` does when an argument is missing
        else:
            content = self.render(**{arg: arguments[position] for arg, position in self.render_positions})
        return self.link(content, **dict(zip(_RENDER_ARGUMENTS, arguments, strict=True))) if self.link else content

    def td_attributes(self, record, value) -> str:
        if self.td_html is not None:
            return self.td_html
        self.bound.current_record, self.bound.current_value = record, value
        return self.bound.attrs["td"].as_html()

    def shown(self, cell) -> str:
        """`{{ cell }}`, `{{ cell|localize }}` or `{{ cell|unlocalize }}`, as the table template has it."""
        if self.localize is None:
            # Text needs no localising: escaping it (unless already safe) is all the template does.
            if isinstance(cell, str):
                return escape(cell)
            return render_value_in_context(cell, _CONTEXT)
        return conditional_escape(str(localize(cell, use_l10n=bool(self.localize))))


def _render_signature(render) -> tuple:
    """`signature(render)`, worked out once per function: `inspect.signature` for each column
    of each page was a fiftieth of the Codes window's page. A bound method's signature (without
    its `self`) is its function's, whatever it is bound to."""
    function = getattr(render, "__func__", None)
    if function is None or not callable(function):
        return signature(render)
    return _method_signature(function)


@functools.cache
def _method_signature(function) -> tuple:
    arguments, keywords = signature(function)
    return arguments[1:], keywords  # less the `self` (or `cls`) it is bound to


def _resolve(accessor: A, record, quiet: bool = False):
    """`accessor.resolve(record, quiet=quiet)`. On a model instance, which cannot be indexed, the
    accessor first tries `record[bit]` and catches the TypeError: an exception per cell. Plain
    attributes of model instances are read here directly; anything else (a dictionary, a method
    to call, a missing attribute) goes through the accessor itself."""
    current = record
    for bit in _bits(accessor):
        if not _is_plain_model(type(current)):
            return accessor.resolve(record, quiet=quiet)
        current = getattr(current, bit, _MISSING)
        if current is _MISSING or callable(current):
            return accessor.resolve(record, quiet=quiet)
        if current is None:
            break
    return current


@functools.cache
def _bits(accessor: str) -> tuple[str, ...]:
    return tuple(A(accessor).bits)


@functools.cache
def _is_plain_model(kind: type) -> bool:
    """A model class whose instances cannot be indexed (`Accessor.resolve` tries that first)."""
    return issubclass(kind, Model) and not hasattr(kind, "__getitem__")


def _attributes(attrs) -> str:
    """`AttributeDict.as_html()`, without `format_html_join`'s lazy-string checks."""
    return " ".join(
        f'{escape(key)}="{escape(value)}"'
        for key, value in ((key, v() if callable(v) else v) for key, v in attrs.items())
        if key not in attrs.blacklist and value is not None
    )


def _has_callable(attrs) -> bool:
    return any(callable(value) or (isinstance(value, dict) and _has_callable(value)) for value in attrs.values())


def render_body(table) -> str:
    """The `<tr>` rows of the table's current page (or its empty text), as safe HTML."""
    columns = [_Column(table, bound_column) for bound_column in table.columns]
    parts = []
    for row in table.paginated_rows:
        record = row.record
        parts.append(f"<tr {_attributes(row.attrs)}>")
        for column in columns:
            cell = column.cell(row, record)
            td = column.td_html if column.td_html is not None else column.td_attributes(record, cell)
            # Safe text (a link, a badge) is written as it is, as `{{ cell }}` writes it.
            shown = cell if column.localize is None and isinstance(cell, SafeString) else column.shown(cell)
            parts.append(f"<td {td}>{shown}</td>")
        parts.append("</tr>")
    if not parts and table.empty_text:
        return format_html('<tr><td colspan="{}">{}</td></tr>', len(columns), table.empty_text)
    return mark_safe("".join(parts))


def render_head(table) -> str:
    """The `<th>` cells of the header row, as django-tables2's template writes them."""
    request = getattr(table, "request", None)  # set by RequestConfig; a preview table has none
    query = dict(request.GET) if request is not None else {}  # as `{% querystring_replace %}` reads it
    order_field = table.prefixed_order_by_field
    cells = []
    for column in table.columns:
        header = render_value_in_context(column.header, _CONTEXT)
        if column.orderable:
            sorted_by = {**query, order_field: column.order_by_alias.next} if order_field not in ("", None) else query
            header = f'<a href="{django_escape("?" + urlencode(sorted_by, doseq=True))}">{header}</a>'
        cells.append(f'<th {column.attrs["th"].as_html()} scope="col">{header}</th>')
    return mark_safe("".join(cells))
