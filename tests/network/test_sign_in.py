"""Sign-in protection: lock-out after repeated failures, disabled users and accounts, sessions
that expire, password rules."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cms.services import account_disable, user_disable
from tests.factories import PASSWORD


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture(autouse=True)
def _fresh_axes(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


def test_given_the_right_password_then_signed_in(network, client):
    response = sign_in(client, "north-admin")
    assert response.status_code == 302
    assert client.get(reverse("accounts:list")).status_code == 200


def test_given_repeated_wrong_passwords_then_locked_out_even_with_the_right_one(network, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "north-admin", "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    response = sign_in(client, "north-admin", "wrong-password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "Try again in 15 minutes" in page
    response = sign_in(client, "north-admin")  # the right password no longer helps
    assert response.status_code == 429
    assert client.get(reverse("accounts:list")).status_code == 302


def test_given_a_locked_user_then_another_user_from_the_same_address_still_signs_in(network, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "north-admin", "wrong-password")
    assert sign_in(client, "south-admin").status_code == 302


def test_given_a_lock_then_it_ends_after_the_cool_off(network, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "north-admin", "wrong-password")
    assert sign_in(client, "north-admin").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)):
        assert sign_in(client, "north-admin").status_code == 302


def test_given_a_disabled_user_then_it_cannot_sign_in(network, client):
    user_disable(actor=network.north_admin, user=network.north_farms_operator)
    response = sign_in(client, "farms-operator")
    assert response.status_code == 200
    assert client.get(reverse("accounts:list")).status_code == 302


def test_given_a_disabled_account_then_its_users_cannot_sign_in_and_are_told_why(network, client):
    account_disable(actor=network.provider_admin, account=network.north)
    response = sign_in(client, "north-admin")
    assert response.status_code == 200
    assert "Your account is disabled" in response.content.decode()
    assert client.get(reverse("accounts:list")).status_code == 302


def test_given_a_signed_in_user_when_its_account_is_disabled_then_its_session_ends(network, client):
    assert sign_in(client, "north-admin").status_code == 302
    account_disable(actor=network.provider_admin, account=network.north)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_given_a_signed_in_user_when_its_user_is_disabled_then_its_session_ends(network, client):
    assert sign_in(client, "farms-operator").status_code == 302
    user_disable(actor=network.north_admin, user=network.north_farms_operator)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_each_request_loads_its_user_and_account_in_one_query(network, django_assert_num_queries):
    from django.contrib.auth import get_user_model

    from cms.auth_backends import ActiveAccountBackend

    for expected in (network.north_admin, network.provider_admin):
        with django_assert_num_queries(1):
            loaded = ActiveAccountBackend().get_user(expected.pk)
            account = loaded.account  # attached, no second query
        orm = get_user_model().objects.select_related("account").get(pk=expected.pk)
        fields = [f.attname for f in get_user_model()._meta.concrete_fields]
        assert [getattr(loaded, name) for name in fields] == [getattr(orm, name) for name in fields]
        account_fields = [f.attname for f in type(account)._meta.concrete_fields]
        assert [getattr(account, name) for name in account_fields] == [
            getattr(orm.account, name) for name in account_fields
        ]
    assert ActiveAccountBackend().get_user(10**9) is None


def test_sessions_expire():
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_password_rules_are_on():
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= names
