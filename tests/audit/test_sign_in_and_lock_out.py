"""Signing in is recorded, and so is a lock-out after failed sign-ins: one entry per lock-out, never
one per failed try, so strangers hammering the sign-in page cannot grow the log."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from tests.domain.support import last_event_id, new_events
from tests.factories import PASSWORD


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def fail_until_locked(client, username):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, username, "wrong-password").status_code == 200
    assert sign_in(client, username, "wrong-password").status_code == 429


@pytest.fixture(autouse=True)
def _fresh_axes(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


def test_given_the_right_password_then_the_sign_in_is_recorded_with_the_address(network, client):
    since = last_event_id()

    assert sign_in(client, "harvest-user").status_code == 302

    (entry,) = new_events(since)
    assert (entry.action, entry.actor_id, entry.account_id, entry.client_address) == (
        Action.SIGNED_IN, network.harvest_user.pk, network.harvest.pk, "127.0.0.1"
    )
    assert PASSWORD not in str(entry.details)


def test_given_a_wrong_password_then_nothing_is_recorded_before_the_lock(network, client):
    since = last_event_id()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "harvest-user", "wrong-password")

    assert not new_events(since).exists()


def test_given_failed_sign_ins_up_to_the_limit_then_one_lock_out_entry_on_the_users_account(network, client):
    since = last_event_id()

    fail_until_locked(client, "harvest-user")

    (entry,) = new_events(since)
    assert (entry.action, entry.actor_id, entry.actor_label, entry.account_id, entry.client_address) == (
        Action.LOCKED_OUT, None, "anonymous", network.harvest.pk, "127.0.0.1"
    )
    assert entry.details == {"user": "harvest-user"}


def test_given_a_locked_user_when_trying_again_and_again_then_no_further_entry(network, client):
    fail_until_locked(client, "harvest-user")
    since = last_event_id()

    for password in ("wrong-password", "another-wrong-one", PASSWORD):
        assert sign_in(client, "harvest-user", password).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert sign_in(client, "harvest-user", "wrong-password").status_code == 429

    assert not new_events(since).exists()


def test_given_a_lock_that_ended_when_locked_out_again_then_a_second_entry(network, client):
    fail_until_locked(client, "harvest-user")

    with time_machine.travel(timezone.now() + timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)):
        since = last_event_id()
        fail_until_locked(client, "harvest-user")

        assert [e.action for e in new_events(since)] == [Action.LOCKED_OUT]


def test_given_a_name_nobody_has_then_its_lock_out_is_not_recorded(network, client):
    since = last_event_id()

    fail_until_locked(client, "nobody-by-that-name")

    assert not new_events(since).exists()


def test_given_tries_while_locked_then_the_lock_still_ends_its_cool_off_after_the_try_that_locked(network, client):
    """Tries while locked neither count nor prolong the lock, so one lock-out is one entry."""
    fail_until_locked(client, "harvest-user")
    locked_at = timezone.now()

    with time_machine.travel(locked_at + timedelta(minutes=10)):
        assert sign_in(client, "harvest-user", "wrong-password").status_code == 429
    with time_machine.travel(locked_at + timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)):
        since = last_event_id()
        assert sign_in(client, "harvest-user").status_code == 302
        assert [e.action for e in new_events(since)] == [Action.SIGNED_IN]
