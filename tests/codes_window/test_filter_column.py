"""The filter column of every window (`cms.filter_form`): each input has its label, a chosen
value shows as chosen, an error is shown at its field, help text is tied to its input, and
nothing typed is written back unescaped."""

import re

import django_filters
import pytest
from django import forms

from cms.filter_form import render_filter_form
from cms.filter_widgets import DayRangeWidget, QuickSelect
from codes.models import Code

CHOICES = [("a", "Alpha"), ("b", "B <&> b")]


class Sample(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", help_text="Code or unit")
    state = django_filters.MultipleChoiceFilter(
        label="State", choices=CHOICES, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all"
    )
    kind = django_filters.ChoiceFilter(label="Kind", choices=CHOICES, empty_label="Any kind", widget=QuickSelect)
    below = django_filters.BooleanFilter(label="and below", widget=forms.CheckboxInput)
    days = django_filters.NumberFilter(label="Days")
    when = django_filters.DateFromToRangeFilter(label="Activation", widget=DayRangeWidget())


def rendered(data=None) -> str:
    filterset = Sample(data or {}, queryset=Code.objects.none())
    filterset.form.is_valid()
    return str(render_filter_form(filterset.form))


def ids(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html))


def test_every_input_has_a_label_or_a_legend_over_its_group():
    html = rendered()
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids(html) - labelled == {"id_when_0", "id_when_1"}
    assert '<legend class="form-label fs-6">Activation</legend>' in html
    assert '<legend class="form-label fs-6">State</legend>' in html
    for label in ("Search", "Kind", "Days", "and below", "Alpha"):
        assert f">{label}</label>" in html


def test_each_input_gets_the_bootstrap_class_of_its_kind():
    html = rendered()
    assert re.search(r'<input type="text" name="q" class="form-control"', html)
    assert re.search(r'<select name="kind" class="form-select"', html)
    assert re.search(r'<input type="checkbox" name="below" class="form-check-input"', html)
    assert re.search(r'<input type="number" name="days" step="any" class="form-control"', html)
    assert re.search(r'<input type="date" name="when_after" class="form-control"', html)


def test_chosen_values_show_as_chosen():
    html = rendered({"q": "ab", "state": ["b"], "kind": "a", "below": "on", "when_after": "2026-01-02"})
    assert 'name="q" value="ab"' in html
    assert re.search(r'value="b" id="id_state_1" checked>', html)
    assert not re.search(r'value="a" id="id_state_0" checked>', html)
    assert '<option value="a" selected>' in html
    assert re.search(r'name="below" class="form-check-input" id="id_below" checked', html)
    assert 'name="when_after" value="2026-01-02"' in html


def test_help_text_is_tied_to_its_input():
    html = rendered()
    assert 'aria-describedby="id_q_helptext"' in html
    assert '<div id="id_q_helptext" class="form-text">Code or unit</div>' in html
    assert '<fieldset aria-describedby="id_state_helptext">' in html
    assert '<div id="id_state_helptext" class="form-text">None ticked: all</div>' in html


def test_a_field_with_an_error_is_marked_and_says_why():
    html = rendered({"days": "many", "state": ["zz"]})
    assert re.search(r'name="days" value="many" step="any" class="form-control is-invalid" aria-invalid="true" aria-describedby="id_days_error"', html)
    assert '<div id="id_days_error" class="invalid-feedback d-block"><div>Enter a number.</div></div>' in html
    assert 'class="form-check-input is-invalid" name="state"' in html
    assert "Select a valid choice. zz is not one of the available choices." in html
    assert "is-invalid" not in html.split('id="div_id_kind"')[1].split("</div>")[0]


@pytest.mark.parametrize("typed", ['"><script>alert(1)</script>', "a & b"])
def test_what_was_typed_and_the_labels_are_escaped(typed):
    html = rendered({"q": typed})
    assert "<script>" not in html
    assert "B &lt;&amp;&gt; b" in html
    assert 'value="{}"'.format(typed.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")) in html


def test_a_hidden_field_is_written_as_it_is():
    class WithHidden(forms.Form):
        page = forms.CharField(widget=forms.HiddenInput)

    form = WithHidden({"page": "3"})
    assert str(render_filter_form(form)) == '<input type="hidden" name="page" value="3" id="id_page">'


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/codes/", "/units/", "/report/", "/batches/", "/accounts/users/"])
def test_every_window_writes_its_filter_column_with_labels(path, window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(path)
    assert response.status_code == 200
    column = re.search(r'<form method="get" id="filter-form".*?</form>', response.content.decode(), re.S).group(0)
    labelled = set(re.findall(r'<label for="([^"]+)"', column))
    unlabelled = {i for i in ids(column) if not re.search(r"_\d$", i)} - labelled  # a range's parts share a legend
    assert column.count('class="mb-3"') >= 3
    assert not unlabelled
