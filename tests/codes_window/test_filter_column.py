"""The filter column of every window (`cms.web.filters.FilterForm`, laid out by Django's form
rendering): each input has its label, a group of inputs its legend, a chosen value shows as
chosen, an error is shown at its field and tied to its input, help text is tied to its input, and
nothing typed is written back unescaped."""

import re
from html import unescape

import django_filters
import pytest
from django import forms

from cms.web.filters import CheckboxList, DayRangeWidget, FilterForm
from codes.models import Code

CHOICES = [("a", "Alpha"), ("b", "B <&> b")]


class Sample(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", help_text="Code or unit")
    state = django_filters.MultipleChoiceFilter(
        label="State", choices=CHOICES, widget=CheckboxList, help_text="None ticked: all"
    )
    kind = django_filters.ChoiceFilter(label="Kind", choices=CHOICES, empty_label="Any kind")
    below = django_filters.BooleanFilter(label="and below", widget=forms.CheckboxInput)
    days = django_filters.NumberFilter(label="Days")
    when = django_filters.DateFromToRangeFilter(label="Activation", widget=DayRangeWidget())

    class Meta:
        form = FilterForm


def rendered(data=None) -> str:
    """The form as the filter column renders it."""
    filterset = Sample(data or {}, queryset=Code.objects.none())
    filterset.form.is_valid()
    return re.sub(r"\s+", " ", str(filterset.form))


def ids(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html))


def labelled(html: str) -> set[str]:
    return set(re.findall(r'<label[^>]* for="([^"]+)"', html))


def field(html: str, name: str) -> str:
    """The markup of one field's wrapper, up to the next field's."""
    return html.split(f'id="div_id_{name}"')[1].split('id="div_id_')[0]


def test_every_input_has_a_label_and_a_group_of_inputs_a_legend():
    html = rendered()
    assert ids(html) <= labelled(html)
    assert re.search(r"<legend[^>]*>\s*Activation\s*</legend>", html)
    assert re.search(r"<legend[^>]*>\s*State\s*</legend>", html)
    for label in ("Search", "Kind", "Days", "and below", "Alpha", "from", "to"):
        assert re.search(rf">\s*{label}\s*</label>", html), label


def test_each_input_gets_the_bootstrap_class_of_its_kind():
    html = rendered()
    assert re.search(r'<input type="text" name="q" class="[^"]*\bform-control\b', html)
    assert re.search(r'<select name="kind" class="[^"]*\bform-select\b', html)
    assert re.search(r'<input type="checkbox" name="below" class="[^"]*\bform-check-input\b', html)
    assert re.search(r'<input type="number" name="days" step="any" class="[^"]*\bform-control\b', html)
    assert re.search(r'<input type="date" name="when_after" class="[^"]*\bform-control\b', html)


def test_chosen_values_show_as_chosen():
    html = rendered({"q": "ab", "state": ["b"], "kind": "a", "below": "on", "when_after": "2026-01-02"})
    assert 'name="q" value="ab"' in html
    assert re.search(r'<input [^>]*value="b"[^>]* id="id_state_1" checked>', html)
    assert not re.search(r'<input [^>]*value="a"[^>]* id="id_state_0" checked>', html)
    assert '<option value="a" selected>' in html
    assert re.search(r'name="below"[^>]*\bchecked\b', html)
    assert 'name="when_after" value="2026-01-02"' in html


def test_help_text_is_tied_to_its_input():
    html = rendered()
    assert re.search(r'name="q"[^>]* aria-describedby="id_q_helptext"', html)
    assert re.search(r'<div id="id_q_helptext" class="form-text">\s*Code or unit\s*</div>', html)
    assert '<fieldset aria-describedby="id_state_helptext">' in html
    assert re.search(r'<div id="id_state_helptext" class="form-text">\s*None ticked: all\s*</div>', html)


def test_a_field_with_an_error_is_marked_and_says_why():
    html = rendered({"days": "many", "state": ["zz"], "when_after": "soon"})
    assert re.search(r'name="days" value="many"[^>]* class="form-control is-invalid" aria-invalid="true" '
                     r'aria-describedby="id_days_error"', html)
    assert re.search(r'<div id="id_days_error" class="invalid-feedback[^"]*">.*Enter a number\.', html)
    assert re.search(r'name="state" value="a" class="form-check-input is-invalid" aria-invalid="true"', html)
    assert "Select a valid choice. zz is not one of the available choices." in field(html, "state")
    assert '<fieldset aria-describedby="id_state_helptext id_state_error">' in html
    # A date range's error is tied to its group, under the legend.
    assert '<fieldset aria-describedby="id_when_error">' in html
    assert "Enter a valid date." in field(html, "when")
    assert "invalid" not in field(html, "kind")


@pytest.mark.parametrize("typed", ['"><script>alert(1)</script>', "a & b"])
def test_what_was_typed_and_the_labels_are_escaped(typed):
    html = rendered({"q": typed})
    assert "<script>" not in html
    assert "B &lt;&amp;&gt; b" in html
    # The attribute holds exactly what was typed: no quote of it closed the attribute.
    typed_back = re.search(r'name="q" value="([^"]*)"', html)
    assert typed_back and unescape(typed_back.group(1)) == typed


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/codes/", "/units/", "/report/", "/batches/", "/accounts/users/"])
def test_every_window_writes_its_filter_column_with_labels(path, window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(path)
    assert response.status_code == 200
    column = re.search(r'<form method="get" id="filter-form".*?</form>', response.content.decode(), re.S).group(0)
    assert column.count('class="mb-3') >= 3
    visible = {i for i in ids(column) if i}
    assert visible and visible <= labelled(column)


@pytest.mark.django_db
def test_an_invalid_filter_shows_its_error_at_the_field_in_the_column(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get("/codes/?activated_after=2027-03-05&activated_before=2027-03-01&period_days=17")
    column = re.search(r'<form method="get" id="filter-form".*?</form>', response.content.decode(), re.S).group(0)
    assert "The first day is after the last day." in field(column, "activated")
    assert "is not one of the available choices" in field(column, "period_days")
    assert re.search(r'name="period_days" class="form-select is-invalid" aria-invalid="true"', column)
