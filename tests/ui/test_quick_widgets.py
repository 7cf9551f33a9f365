"""The filter column's inputs (`QuickTextInput`, `QuickCheckboxInput`, `DayRangeWidget`) write
the markup of Django's own widget templates in one pass (issue 7): the same attributes, values,
escaping and labels, in every language."""

from datetime import date

import pytest
from django import forms
from django.utils import translation

from cms.filter_widgets import DayRangeWidget, QuickCheckboxInput, QuickTextInput

ATTRS = [
    None,
    {"id": "id_q", "class": "form-control", "aria-describedby": "id_q_helptext"},
    {"id": "id_q", "class": "form-control is-invalid", "aria-invalid": "true", "required": True, "disabled": False},
    {"placeholder": 'Say "hello" <b>&</b>'},
]


@pytest.mark.parametrize("value", [None, "", "CODE-1234", '<script>"x"</script> & more', 42])
@pytest.mark.parametrize("attrs", ATTRS)
def test_a_quick_text_input_writes_what_djangos_text_input_writes(value, attrs):
    assert QuickTextInput().render("q", value, attrs=attrs) == forms.TextInput().render("q", value, attrs=attrs)


@pytest.mark.parametrize("value", [None, "", True, False, "on", "false"])
@pytest.mark.parametrize("attrs", ATTRS)
def test_a_quick_checkbox_writes_what_djangos_checkbox_writes(value, attrs):
    quick = QuickCheckboxInput().render("holder_below", value, attrs=attrs)
    assert quick == forms.CheckboxInput().render("holder_below", value, attrs=attrs)


DAY_RANGES = [
    None, ["", ""], ["2026-01-01", ""], ["2026-01-01", "2026-12-31"], slice(date(2026, 1, 1), None), ['"><x', "y"],
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("value", DAY_RANGES)
@pytest.mark.parametrize("attrs", [None, {"id": "id_activated", "class": "form-control"}])
def test_the_day_range_writes_what_its_template_writes(language, value, attrs):
    widget = DayRangeWidget()
    with translation.override(language):
        quick = widget.render("activated", value, attrs=attrs)
        from_template = forms.MultiWidget.render(widget, "activated", value, attrs=attrs)
    assert quick == from_template
    assert 'type="date"' in quick and 'name="activated_after"' in quick and 'name="activated_before"' in quick
