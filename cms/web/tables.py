"""The base of every table in the window (NetBox style): a checkbox column named `pk` for bulk
actions, and a "select all" box in its header; a compact table under a sticky header with a
pager that never counts the rows (`cms/jinja2/generic/table.html`)."""

from datetime import datetime

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

#: How Keyline writes a time for people, in tables, pages and exports: unambiguous and 24-hour in
#: every language (a `strftime` format of digits only), in the account's time zone (ADR 38).
WINDOW_TIME = "%Y-%m-%d %H:%M"
#: And a day.
WINDOW_DAY = "%Y-%m-%d"


def minute(value) -> str:
    """A time to the minute ("2026-12-07 16:05") in the active time zone (the account's); ""
    for no time, never now (`timezone.localtime(None)` is now)."""
    return timezone.localtime(value).strftime(WINDOW_TIME) if value else ""


def day(value) -> str:
    """A day ("2026-12-07"): a date as it is, a time's day in the active time zone; "" for none."""
    if not value:
        return ""
    return (timezone.localtime(value) if isinstance(value, datetime) else value).strftime(WINDOW_DAY)

#: An id no row has, reversed in its place to make a route's URL for any id (`object_url`).
_ID_PLACEHOLDER = 918273645546372819


class SelectionColumn(tables.CheckBoxColumn):
    """The row's checkbox for bulk actions (in the list page's bulk form), and "select all" above."""

    def __init__(self, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("exclude_from_export", True)
        kwargs.setdefault(
            "attrs",
            {
                "th__input": {"class": "form-check-input js-select-all", "aria-label": _("Select all rows on this page")},
                "th": {"class": "selection-column"},
                "td": {"class": "selection-column"},
            },
        )
        super().__init__(**kwargs)

    def render(self, value):
        return format_html(
            '<input type="checkbox" name="pk" value="{}" class="form-check-input js-select-row" form="bulk-form" '
            'aria-label="{}">',
            value, _("Select row"),
        )


class LocalDateTimeColumn(tables.Column):
    """A time in the account's time zone (the middleware activates it), in the window's format
    (`minute`). A missing time shows the column's default ("—"), never the current time."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap tabular"}})
        super().__init__(*args, **kwargs)

    def render(self, value, bound_column):
        if value is None:  # reached only by a column whose `empty_values` lets None through
            return bound_column.default
        return minute(value)


class LocalDateColumn(tables.Column):
    """A day in the window's format (`day`); a missing one shows the column's default ("—")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap tabular"}})
        super().__init__(*args, **kwargs)

    def render(self, value, bound_column):
        if value is None:
            return bound_column.default
        return day(value)


class BaseTable(tables.Table):
    pk = SelectionColumn()

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
