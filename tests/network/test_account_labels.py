"""An account's label in the choice lists (filters and forms): its name, one "— " per level below
the list's top depth, and its kind in parentheses where the list shows it."""

import pytest

from cms.web.labels import indented_account_label
from codes.forms import ShareForm


@pytest.mark.parametrize(
    "depth, top, label",
    [
        (1, 1, "Acme Telematics"),
        (2, 1, "— Acme Telematics"),
        (4, 1, "— — — Acme Telematics"),
        (2, 2, "Acme Telematics"),
        (4, 2, "— — Acme Telematics"),
        (1, 2, "Acme Telematics"),  # above the top: flush left, never a negative indent
    ],
)
def test_the_name_is_indented_once_per_level_below_the_top(depth, top, label):
    assert indented_account_label("Acme Telematics", depth, top=top) == label


def test_without_a_top_the_providers_are_flush_left():
    assert indented_account_label("Harvest Co", 4) == "— — — Harvest Co"


def test_a_kind_label_follows_the_name_and_the_indent_stays_in_front():
    assert indented_account_label("Harvest Co", 3, top=2, kind_label="Customer") == "— Harvest Co (Customer)"


def test_the_share_form_lists_the_accounts_below_the_users_own_one_its_first_level_flush_left(network):
    field = ShareForm(user=network.north_admin).fields["account"]
    assert [label for _pk, label in list(field.choices)[1:]] == [
        "North Farms Dealer (Reseller)",
        "— Harvest Co (Customer)",
    ]
