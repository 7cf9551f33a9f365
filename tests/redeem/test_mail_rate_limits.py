"""Codes sent by e-mail are limited per sender and per recipient, counted one per e-mail in the real
rate-limit cache (Redis on the Redis pass). A send that would go over either limit is refused
whole with what would fit and when: nothing is reserved, recorded or mailed, and the refusal
spends nothing. The rule is the service's, so the page and the API answer alike (429)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import Action, Event
from cms.api.errors import exception_handler
from cms.errors import RateLimited
from codes import ratelimits
from codes.models import Code
from codes.services import codes_send_by_email


@pytest.fixture
def inbox(smtp_server, settings):
    """Mails go through the real SMTP server of tests/mail_server.py; the worker runs in-process."""
    from cms.celery import app

    controller, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield received.envelopes
    app.conf.task_always_eager = previous


@pytest.fixture
def per_user(settings):
    settings.KEYLINE_MAIL_RATE_USER = "3/h"
    settings.KEYLINE_MAIL_RATE_RECIPIENT = "100/h"


@pytest.fixture
def per_recipient(settings):
    settings.KEYLINE_MAIL_RATE_USER = "100/h"
    settings.KEYLINE_MAIL_RATE_RECIPIENT = "2/h"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, codes, recipient: str, *, layout: str = "per_code", capture):
    """The page's Send, with the mails handed to the worker when the request's transaction commits."""
    with capture(execute=True):
        return client.post(
            "/codes/send/",
            {"pk": [code.pk for code in codes], "_send": "1", "recipient": recipient, "message": "",
             "language": "en", "layout": layout},
        )


def reserved(code) -> str:
    return Code.objects.get(pk=code.pk).reserved_for


def form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_given_a_user_at_its_limit_when_it_sends_again_then_429_and_nothing_is_reserved_recorded_or_mailed(
    shop, per_user, inbox, django_capture_on_commit_callbacks
):
    north = signed_in(shop.network.north_admin)
    for n in range(3):
        response = send(north, [shop.codes[n]], f"driver{n}@harvest.example", capture=django_capture_on_commit_callbacks)
        assert response.status_code == 302
    entries = Event.objects.count()

    response = send(north, [shop.codes[3]], "driver3@harvest.example", capture=django_capture_on_commit_callbacks)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    [error] = form_errors(response)
    minutes = -(-int(response["Retry-After"]) // 60)
    assert error == (
        "Nothing was sent: one user may send 3 e-mails an hour (0 left now), and this would send 1. "
        + (f"Try again in {minutes} minutes." if minutes != 1 else "Try again in 1 minute.")
    )
    assert reserved(shop.codes[3]) == "" and Event.objects.count() == entries
    assert len(inbox) == 3
    # The limit is the user's: a colleague still sends.
    colleague = signed_in(shop.network.provider_operator)
    assert send(colleague, [shop.codes[3]], "driver3@harvest.example", capture=django_capture_on_commit_callbacks).status_code == 302
    assert len(inbox) == 4 and reserved(shop.codes[3]) == "driver3@harvest.example"


def test_given_an_address_at_its_limit_when_another_user_sends_to_it_then_429_and_other_addresses_still_receive(
    shop, per_recipient, inbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    assert send(signed_in(shop.network.north_admin), [shop.codes[0]], "driver@harvest.example", capture=capture).status_code == 302
    assert send(signed_in(shop.network.provider_operator), [shop.codes[1]], " Driver@Harvest.example", capture=capture).status_code == 302

    admin = signed_in(shop.network.provider_admin)
    response = send(admin, [shop.codes[2]], "DRIVER@harvest.example", capture=capture)

    assert response.status_code == 429
    [error] = form_errors(response)
    assert error.startswith(
        "Nothing was sent: one address may receive 2 e-mails an hour (0 left now for DRIVER@harvest.example), "
        "and this would send 1. Try again in "
    )
    assert reserved(shop.codes[2]) == "" and len(inbox) == 2
    assert not Event.objects.filter(action=Action.RESERVED, code=shop.codes[2]).exists()
    assert send(admin, [shop.codes[2]], "fleet@harvest.example", capture=capture).status_code == 302
    assert [envelope.rcpt_tos for envelope in inbox][-1] == ["fleet@harvest.example"]


def test_given_one_mail_per_code_when_the_codes_would_go_over_then_it_says_one_mail_for_all_would_fit(
    shop, per_user, inbox, django_capture_on_commit_callbacks
):
    north, capture = signed_in(shop.network.north_admin), django_capture_on_commit_callbacks

    refused = send(north, shop.codes[:4], "fleet@harvest.example", capture=capture)

    assert refused.status_code == 429
    assert form_errors(refused) == [
        "Nothing was sent: one user may send 3 e-mails an hour (3 left now), and this would send 4. "
        "One e-mail listing all the codes would fit now."
    ]
    assert all(reserved(code) == "" for code in shop.codes[:4]) and inbox == []
    # The refusal spent nothing: one mail for all four, then two more, and the third is refused.
    assert send(north, shop.codes[:4], "fleet@harvest.example", layout="one_mail", capture=capture).status_code == 302
    assert send(north, [shop.codes[4]], "a@harvest.example", capture=capture).status_code == 302
    assert send(north, [shop.codes[5]], "b@harvest.example", capture=capture).status_code == 302
    assert send(north, [shop.rival_code], "c@harvest.example", capture=capture).status_code == 404
    assert len(inbox) == 3
    over = send(north, [shop.codes[4]], "a@harvest.example", capture=capture)
    assert over.status_code == 429 and len(inbox) == 3


def test_given_sends_refused_for_other_reasons_then_they_spend_nothing(shop, per_user, inbox, django_capture_on_commit_callbacks):
    north, capture = signed_in(shop.network.north_admin), django_capture_on_commit_callbacks
    codes_send_by_email(codes=[shop.codes[0]], actor=shop.network.provider_admin, recipient="driver@harvest.example")

    for _ in range(5):  # kept for another address: 409, counted nowhere
        assert send(north, [shop.codes[0]], "other@harvest.example", capture=capture).status_code == 409
    for _ in range(5):  # not an address: the form's error
        assert send(north, [shop.codes[1]], "nope", capture=capture).status_code == 200

    assert [send(north, [shop.codes[n]], f"d{n}@harvest.example", capture=capture).status_code for n in (1, 2, 3)] == [302] * 3


def test_given_a_user_at_its_limit_when_the_hour_is_over_then_it_sends_again(
    shop, per_user, inbox, django_capture_on_commit_callbacks
):
    north, capture = signed_in(shop.network.north_admin), django_capture_on_commit_callbacks
    assert send(north, shop.codes[:3], "fleet@harvest.example", capture=capture).status_code == 302
    refused = send(north, [shop.codes[3]], "fleet@harvest.example", capture=capture)
    assert refused.status_code == 429

    with time_machine.travel(timezone.now() + timedelta(seconds=int(refused["Retry-After"]) + 1)):
        response = send(north, [shop.codes[3]], "fleet@harvest.example", capture=capture)

    assert response.status_code == 302 and len(inbox) == 4


def test_given_the_service_refuses_a_send_for_its_limit_then_the_api_answers_429_with_retry_after(shop, per_recipient):
    """The same refusal the page shows, as the API's error handler answers it for any endpoint that sends."""
    for n in range(2):
        codes_send_by_email(codes=[shop.codes[n]], actor=shop.network.north_admin, recipient="driver@harvest.example")

    with pytest.raises(RateLimited) as refused:
        codes_send_by_email(codes=[shop.codes[2]], actor=shop.network.north_admin, recipient="driver@harvest.example")
    response = exception_handler(refused.value, {})

    assert response.status_code == 429
    assert response.data["error"]["code"] == "rate_limited"
    assert response.data["error"]["message"] == refused.value.message
    assert 0 < int(response["Retry-After"]) <= 3600
    assert reserved(shop.codes[2]) == ""


def test_given_the_limits_switched_off_then_sends_are_not_counted(shop, settings, per_user):
    settings.RATELIMIT_ENABLE = False
    for n in range(5):
        codes_send_by_email(codes=[shop.codes[n]], actor=shop.network.north_admin, recipient=f"d{n}@harvest.example")

    assert ratelimits.mail_allowance(user_id=shop.network.north_admin.pk, recipient="d@harvest.example", mails=99) is None


@pytest.mark.redis
def test_given_the_counters_unreachable_when_sending_then_it_is_refused_for_a_minute_and_nothing_happens(
    shop, settings, inbox, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": "redis://127.0.0.1:1/0"},
    }

    response = send(signed_in(shop.network.north_admin), [shop.codes[0]], "driver@harvest.example",
                    capture=django_capture_on_commit_callbacks)

    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert form_errors(response) == [
        "Nothing was sent: the e-mail limits cannot be checked just now. Try again in a minute."
    ]
    assert reserved(shop.codes[0]) == "" and inbox == []
    assert not Event.objects.filter(action=Action.RESERVED).exists()
