"""`QuickSelect` (the filter column's account, batch and period lists) writes the markup of
Django's own `Select` templates, one pass instead of one template per option (issue 7)."""

import pytest
from django import forms

from cms.filter_widgets import QuickSelect

CHOICES = [
    ("", "Any account"),
    (1, "Acme <Telematics>"),
    (2, "— North & Sales"),
    ("Group", [(3, "In a group"), (4, 'Quoted "name"')]),
    (None, "No value"),
]


@pytest.mark.parametrize("value", [None, "", "2", 3, ["1"], "not-a-choice"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_holder", "class": "form-select", "required": True, "disabled": False}])
def test_quick_select_writes_what_djangos_select_writes(value, attrs):
    quick = QuickSelect(choices=CHOICES).render("holder", value, attrs=attrs)
    stock = forms.Select(choices=CHOICES).render("holder", value, attrs=attrs)
    assert quick == stock


def test_a_multiple_quick_select_marks_every_chosen_option():
    class Multiple(QuickSelect):
        allow_multiple_selected = True

    class StockMultiple(forms.Select):
        allow_multiple_selected = True

    assert Multiple(choices=CHOICES).render("h", ["1", "3"]) == StockMultiple(choices=CHOICES).render("h", ["1", "3"])
