"""The base of every table in the window (NetBox style): a checkbox column named `pk` for bulk
actions, and a "select all" box in its header."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


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
            },
        )
        super().__init__(**kwargs)

    def render(self, value, bound_column, record):
        return format_html(
            '<input type="checkbox" name="pk" value="{}" class="form-check-input js-select-row" form="bulk-form" '
            'aria-label="{}">',
            value,
            _("Select row"),
        )


class BaseTable(tables.Table):
    pk = SelectionColumn()

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
        template_name = "django_tables2/bootstrap5-responsive.html"
