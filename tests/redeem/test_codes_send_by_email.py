"""Sending codes by e-mail: the service, the task and the bulk-action page."""

import re
from datetime import timedelta
from email import message_from_string

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from audit.models import Action, Event
from cms.errors import DomainError, PermissionDenied
from codes.models import Code
from codes.services import code_attach, code_revoke, codes_mail_build, codes_send_by_email
from tests import factories


@pytest.fixture
def eager_mail(settings):
    """Mails go to Django's memory outbox; the task runs when the transaction commits."""
    from cms.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://keyline.example"
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield mail.outbox
    app.conf.task_always_eager = previous


def link_in(text: str) -> str:
    return re.search(r"https://keyline\.example/redeem/\?code=[A-Z0-9%-]+", text).group(0)


# --- the service -----------------------------------------------------------------------------


def test_given_codes_of_north_when_north_sends_them_one_per_mail_then_each_mail_has_its_code_and_link(
    shop, eager_mail, django_capture_on_commit_callbacks
):
    codes = shop.codes[:2]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        codes_send_by_email(
            codes=codes, actor=shop.network.north_admin, recipient="driver@harvest.example",
            message="Thanks for renewing!", language="en", one_mail_per_code=True,
        )

    assert len(callbacks) == 1, "the task is sent after commit"
    assert len(eager_mail) == 2
    for code, message in zip(codes, eager_mail, strict=True):
        assert message.to == ["driver@harvest.example"]
        assert message.subject == "Your activation code for 30 days"
        assert code.display_text in message.body and "Period: 30 days" in message.body
        assert "Thanks for renewing!" in message.body and "North Sales" in message.body
        assert link_in(message.body) == f"https://keyline.example/redeem/?code={code.display_text}"
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html" and code.display_text in html
        assert f'href="https://keyline.example/redeem/?code={code.display_text}"' in html


def test_given_several_codes_when_sent_in_one_mail_then_it_lists_them_all(
    shop, eager_mail, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        codes_send_by_email(
            codes=shop.codes[:3], actor=shop.network.north_admin, recipient="fleet@harvest.example",
            language="en", one_mail_per_code=False,
        )

    [message] = eager_mail
    assert message.subject == "Your 3 activation codes"
    assert all(code.display_text in message.body for code in shop.codes[:3])


def test_given_a_code_with_a_use_by_date_when_sent_in_french_then_the_mail_is_rendered_in_french(
    network, eager_mail, django_capture_on_commit_callbacks
):
    use_by = timezone.now().date() + timedelta(days=60)
    [code] = factories.codes(network.provider_admin, quantity=1, period_days=90, use_by=use_by)

    with django_capture_on_commit_callbacks(execute=True):
        codes_send_by_email(codes=[code], actor=network.provider_admin, recipient="a@b.example", language="fr")

    [message] = eager_mail
    html, _ = message.alternatives[0]
    assert '<html lang="fr">' in html
    french_months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                     "octobre", "novembre", "décembre"]
    assert f"{use_by.day} {french_months[use_by.month - 1]} {use_by.year}" in message.body


def test_given_a_send_when_it_commits_then_the_codes_are_reserved_and_the_audit_records_who_sent_which_to_whom(
    shop, eager_mail
):
    codes_send_by_email(codes=shop.codes[:2], actor=shop.network.north_admin, recipient="Driver@Harvest.example")

    events = Event.objects.filter(action=Action.RESERVED).order_by("code_id")
    assert [e.code_id for e in events] == sorted(c.pk for c in shop.codes[:2])
    for event in events:
        assert event.actor == shop.network.north_admin
        assert event.actor_account == shop.network.north
        assert event.details["recipient"] == "Driver@Harvest.example"
        assert event.account_id == shop.network.north.pk
        code = Code.objects.get(pk=event.code_id)
        assert (code.reserved_for, code.reserved_at) == ("Driver@Harvest.example", event.occurred_at)


def test_given_a_code_outside_the_senders_branch_when_sent_then_nothing_is_recorded_or_sent(
    shop, eager_mail, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as refused:
        codes_send_by_email(codes=[shop.codes[0], shop.rival_code], actor=shop.network.north_admin, recipient="a@b.example")

    assert refused.value.code == "bulk_refused"
    assert [r.code for r in refused.value.refusals] == ["not_found"]
    assert eager_mail == [] and not Event.objects.filter(action=Action.RESERVED).exists()


def test_given_codes_that_can_no_longer_be_redeemed_when_sent_then_they_are_refused(shop, eager_mail):
    code_attach(code=shop.codes[0], unit=shop.unit, actor=shop.network.north_admin)
    [fresh] = factories.codes(shop.network.provider_admin, quantity=1)
    code_revoke(code=fresh, actor=shop.network.provider_admin)

    with pytest.raises(DomainError) as refused:
        codes_send_by_email(codes=[shop.codes[0], fresh], actor=shop.network.provider_admin, recipient="a@b.example")

    assert [r.code for r in refused.value.refusals] == ["invalid_state", "invalid_state"]
    assert not Event.objects.filter(action=Action.RESERVED).exists()


@pytest.mark.parametrize(
    "recipient, language, message, field",
    [("not-an-address", "en", "", "recipient"), ("a@b.example", "de", "", "language"),
     ("a@b.example", "en", "x" * 2001, "message")],
)
def test_given_bad_input_when_sending_then_it_says_which_field_and_changes_nothing(
    shop, eager_mail, recipient, language, message, field
):
    with pytest.raises(DomainError) as refused:
        codes_send_by_email(
            codes=shop.codes[:1], actor=shop.network.north_admin, recipient=recipient, language=language, message=message
        )

    assert refused.value.code == "validation_error" and [r.item for r in refused.value.refusals] == [field]
    assert not Event.objects.filter(action=Action.RESERVED).exists()


def test_given_a_viewer_when_sending_then_it_is_refused(shop, eager_mail):
    with pytest.raises(PermissionDenied):
        codes_send_by_email(codes=shop.codes[:1], actor=shop.network.provider_viewer, recipient="a@b.example")


def test_given_the_task_when_the_codes_are_rendered_then_the_subject_is_one_line(shop):
    [message] = codes_mail_build(
        code_ids=[shop.codes[0].pk], recipient="a@b.example", message="", language="es", one_mail_per_code=True
    )
    parsed = message_from_string(message.message().as_string())
    assert "\n" not in message.subject and parsed["To"] == "a@b.example"


# --- the bulk-action page --------------------------------------------------------------------


@pytest.fixture
def north(shop) -> Client:
    client = Client()
    client.force_login(shop.network.north_admin)
    return client


def test_given_codes_posted_from_the_window_when_the_page_opens_then_it_lists_them_with_the_form(shop, north):
    response = north.post("/codes/send/", {"pk": [shop.codes[0].pk, shop.codes[1].pk]})

    assert response.status_code == 200
    html = response.content.decode()
    assert shop.codes[0].display_text in html and shop.codes[1].display_text in html
    assert '<label for="id_recipient"' in html and 'name="_send"' in html
    assert not Event.objects.filter(action=Action.RESERVED).exists(), "opening the form sends nothing"


def test_given_a_link_with_pks_when_opened_then_the_same_form_is_shown(shop, north):
    response = north.get("/codes/send/", {"pk": [shop.codes[0].pk]})

    assert response.status_code == 200 and shop.codes[0].display_text in response.content.decode()


def test_given_the_form_when_sent_then_the_codes_are_mailed_and_the_window_says_so(shop, north, eager_mail):
    response = north.post(
        "/codes/send/",
        {"pk": [shop.codes[0].pk, shop.codes[1].pk], "_send": "1", "recipient": "driver@harvest.example",
         "message": "", "language": "es", "layout": "one_mail"},
        follow=False,
    )

    assert response.status_code == 302 and response["Location"] == "/codes/"
    assert Event.objects.filter(action=Action.RESERVED).count() == 2


def test_given_a_bad_address_when_sent_then_the_form_shows_the_error_linked_to_the_field(shop, north):
    response = north.post(
        "/codes/send/",
        {"pk": [shop.codes[0].pk], "_send": "1", "recipient": "nope", "language": "en", "layout": "per_code"},
    )

    assert response.status_code == 200
    assert 'aria-describedby="id_recipient-help id_recipient-error"' in response.content.decode()
    assert not Event.objects.filter(action=Action.RESERVED).exists()


def test_given_a_code_of_another_tenant_when_posted_then_the_page_answers_404(shop, north):
    assert north.post("/codes/send/", {"pk": [shop.codes[0].pk, shop.rival_code.pk]}).status_code == 404
    assert north.get("/codes/send/", {"pk": ["abc"]}).status_code == 404


def test_given_no_sign_in_when_opening_the_page_then_it_asks_to_sign_in(shop):
    response = Client().get("/codes/send/", {"pk": [shop.codes[0].pk]})

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_given_the_window_with_filters_when_the_codes_are_sent_then_it_returns_there(shop, north, eager_mail):
    opened = north.post("/codes/send/", {"pk": [shop.codes[0].pk], "_return": "/codes/?state=available"})
    assert 'name="_return" value="/codes/?state=available"' in opened.content.decode()

    response = north.post(
        "/codes/send/",
        {"pk": [shop.codes[0].pk], "_send": "1", "recipient": "a@b.example", "language": "en", "layout": "per_code",
         "_return": "/codes/?state=available"},
    )

    assert response["Location"] == "/codes/?state=available"


def test_given_a_return_address_of_another_site_when_sent_then_it_returns_to_the_window(shop, north, eager_mail):
    response = north.post(
        "/codes/send/",
        {"pk": [shop.codes[0].pk], "_send": "1", "recipient": "a@b.example", "language": "en", "layout": "per_code",
         "_return": "https://evil.example/"},
    )

    assert response["Location"] == "/codes/"


def test_given_a_code_kept_for_someone_when_sent_to_another_address_then_the_form_says_so_and_nothing_is_sent(
    shop, north, eager_mail
):
    codes_send_by_email(codes=[shop.codes[0]], actor=shop.network.north_admin, recipient="driver@harvest.example")
    opened = north.post("/codes/send/", {"pk": [shop.codes[0].pk]})
    assert "sent to driver@harvest.example on " in opened.content.decode()

    response = north.post(
        "/codes/send/",
        {"pk": [shop.codes[0].pk], "_send": "1", "recipient": "other@harvest.example", "language": "en",
         "layout": "per_code"},
    )

    assert response.status_code == 409
    assert "Reserved for driver@harvest.example since" in response.content.decode()
    assert Code.objects.get(pk=shop.codes[0].pk).reserved_for == "driver@harvest.example"
    assert Event.objects.filter(action=Action.RESERVED).count() == 1
