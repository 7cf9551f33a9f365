"""The mail limits hold when one user's sends arrive at the same instant: each has looked at the
counters before any of them counted, yet no more mails are reserved than the limit allows, and
the others get the clear refusal. Threads with their own connections, as separate requests."""

import pytest

from audit.models import Action, Event
from codes.models import Code
from codes.services import codes_send_by_email
from tests import factories

from .test_concurrency import outcomes, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_given_ten_sends_of_one_user_at_once_when_three_fit_then_exactly_three_are_sent(network, settings):
    settings.KEYLINE_MAIL_RATE_USER = "3/h"
    codes = factories.codes(network.provider_admin, quantity=10)

    results = race(
        [
            lambda i=i: codes_send_by_email(codes=[codes[i].pk], actor=network.provider_operator,
                                            recipient=f"driver{i}@harvest.example")
            for i in range(10)
        ]
    )

    wins, losses = outcomes(results)
    assert len(wins) == 3 and {error.code for error in losses} == {"rate_limited"}
    assert Code.objects.exclude(reserved_for="").count() == 3
    assert Event.objects.filter(action=Action.RESERVED).count() == 3


def test_given_ten_users_sending_to_one_address_at_once_when_two_fit_then_exactly_two_are_sent(network, settings):
    settings.KEYLINE_MAIL_RATE_RECIPIENT = "2/h"
    codes = factories.codes(network.provider_admin, quantity=10)
    senders = [factories.user(network.provider, "operator") for _ in range(10)]

    results = race(
        [
            lambda i=i: codes_send_by_email(codes=[codes[i].pk], actor=senders[i], recipient="driver@harvest.example")
            for i in range(10)
        ]
    )

    wins, losses = outcomes(results)
    assert len(wins) == 2 and {error.code for error in losses} == {"rate_limited"}
    assert Code.objects.filter(reserved_for="driver@harvest.example").count() == 2
