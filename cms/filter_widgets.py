"""Widgets of the window's filter column (their templates live in cms/templates/cms/widgets/,
where Django's default form renderer finds them)."""

from django_filters.widgets import DateRangeWidget


class DayRangeWidget(DateRangeWidget):
    """Two date pickers, "from" and "to", one under the other: they fit the filter column."""

    template_name = "cms/widgets/date_range.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})
