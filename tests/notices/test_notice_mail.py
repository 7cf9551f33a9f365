"""The daily e-mail of expiry notices: each user of the account gets the notices the dashboard
would show them, once a day (a show-once notice once in all), from the account's local morning,
each with a `notice_sent` audit entry; a failed send records nothing and is tried again."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, Event
from cms.celery import app
from codes.models import Code, NoticeMailed
from codes.notices import notices_due_for
from codes.services import notice_create, notices_mail_due, notices_mark_seen
from codes.tasks import notices_mail_due_task
from tests import factories
from tests.mail_server import free_port
from tests.notices.conftest import DAY, NOW


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://keyline.example"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def north_mailbox(network):
    """North Sales' admin has an e-mail address; nobody else in the network has one."""
    network.north_admin.email = "ops@north.example"
    network.north_admin.save(update_fields=["email"])
    return network.north_admin


def test_given_a_notice_with_codes_due_when_the_job_runs_then_the_user_gets_one_mail_with_the_count_and_link(
    network, expiring, outbox, north_mailbox
):
    notice = notice_create(actor=network.north_admin, name="Renew soon", text="Order codes now.", days_before=7)
    assert notices_mail_due(now=NOW) == 1
    (message,) = outbox
    assert message.to == ["ops@north.example"]
    assert message.subject == "Keyline: Renew soon"
    assert "Order codes now." in message.body
    assert "One unit of North Sales loses its cover by March 8, 2027:" in message.body
    unit = Code.objects.get(pk=expiring[0].pk).unit
    assert f"- {unit.name} ({unit.hardware_id}): cover ends March 6, 2027" in message.body
    assert "https://keyline.example/units/?cover_ends_after=2027-03-01&cover_ends_before=2027-03-08" in message.body
    (event,) = Event.objects.filter(action=Action.NOTICE_SENT)
    assert event.actor_label == "system" and event.account_id == network.north.pk
    assert event.details == {
        "notice": "Renew soon", "notice_id": notice.pk, "days_before": 7,
        "recipient": "ops@north.example", "user": "north-admin", "units": 1,
    }


def test_given_the_count_then_it_is_the_count_the_dashboard_shows_that_user(network, expiring, outbox):
    network.provider_admin.email = "admin@acme.example"
    network.provider_admin.save(update_fields=["email"])
    notice_create(actor=network.provider_admin, name="Week", text="T", days_before=7)
    (due,) = notices_due_for(network.provider_admin, NOW)
    notices_mail_due(now=NOW)
    (message,) = outbox
    assert due.count == 2 and "2 units of Acme Telematics lose their cover by March 8, 2027:" in message.body


def test_given_the_job_runs_twice_on_one_day_then_one_mail_and_the_next_day_another(
    network, expiring, outbox, north_mailbox, clock
):
    notice_create(actor=network.north_admin, name="Renew soon", text="T", days_before=7)
    assert notices_mail_due(now=NOW) == 1
    assert notices_mail_due(now=NOW + timedelta(hours=3)) == 0
    clock.move_to(NOW + DAY)
    assert notices_mail_due(now=NOW + DAY) == 1
    assert len(outbox) == 2
    assert Event.objects.filter(action=Action.NOTICE_SENT).count() == 2


def test_given_a_show_once_notice_then_it_is_mailed_once_in_all(network, expiring, outbox, north_mailbox, clock):
    notice_create(actor=network.north_admin, name="Once", text="T", days_before=7, show_repeatedly=False)
    assert notices_mail_due(now=NOW) == 1
    clock.move_to(NOW + DAY)
    assert notices_mail_due(now=NOW + DAY) == 0
    assert len(outbox) == 1


def test_given_a_show_once_notice_already_seen_after_sign_in_then_it_is_not_mailed(
    network, expiring, outbox, north_mailbox
):
    notice_create(actor=network.north_admin, name="Once", text="T", days_before=7, show_repeatedly=False)
    notices_mark_seen(user=north_mailbox, notices=[d.notice for d in notices_due_for(north_mailbox, NOW)])
    assert notices_mail_due(now=NOW) == 0
    assert outbox == [] and not Event.objects.filter(action=Action.NOTICE_SENT).exists()


def test_given_nothing_due_then_no_mail_and_no_audit_entry(network, expiring, outbox, north_mailbox):
    notice_create(actor=network.north_admin, name="Two days", text="T", days_before=2)  # North's next ends in 5
    assert notices_mail_due(now=NOW) == 0
    assert outbox == [] and not NoticeMailed.objects.exists()


def test_given_users_without_an_address_disabled_or_in_a_disabled_account_then_they_get_no_mail(
    network, expiring, outbox, north_mailbox
):
    notice_create(actor=network.north_admin, name="Renew soon", text="T", days_before=7)
    north_mailbox.is_active = False
    north_mailbox.save(update_fields=["is_active"])
    assert notices_mail_due(now=NOW) == 0  # the only user with an address is disabled
    north_mailbox.is_active = True
    north_mailbox.save(update_fields=["is_active"])
    type(network.north).objects.filter(pk=network.north.pk).update(is_active=False)
    assert notices_mail_due(now=NOW) == 0
    assert outbox == []


def test_given_an_account_in_tokyo_then_its_mails_wait_for_its_morning(network, expiring, outbox, north_mailbox, clock):
    # NOW is 15:00 UTC: midnight in Tokyo. The mail goes at 07:00 Tokyo time, 22:00 UTC.
    type(network.north).objects.filter(pk=network.north.pk).update(time_zone="Asia/Tokyo")
    notice_create(actor=network.north_admin, name="Renew soon", text="T", days_before=7)
    assert notices_mail_due(now=NOW) == 0
    morning = NOW + timedelta(hours=7)
    clock.move_to(morning)
    assert notices_mail_due(now=morning) == 1
    assert NoticeMailed.objects.get().day.isoformat() == "2027-03-02"  # Tokyo's day


def test_given_the_mail_server_down_then_nothing_is_recorded_and_the_next_run_sends_through_a_real_server(
    network, expiring, north_mailbox, settings, smtp_server
):
    notice_create(actor=network.north_admin, name="Renew soon", text="Order codes now.", days_before=7)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    with pytest.raises(OSError):
        notices_mail_due(now=NOW)
    assert not NoticeMailed.objects.exists() and not Event.objects.filter(action=Action.NOTICE_SENT).exists()

    controller, inbox = smtp_server
    settings.EMAIL_PORT = controller.port
    assert notices_mail_due(now=NOW) == 1
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["ops@north.example"]
    received = message_from_bytes(envelope.content, policy=policy.default)
    assert received["Subject"] == "Keyline: Renew soon"
    assert "Order codes now." in received.get_content()
    assert Event.objects.filter(action=Action.NOTICE_SENT).count() == 1


def test_given_the_beat_schedule_then_the_job_runs_every_hour_and_its_task_sends(
    network, expiring, outbox, north_mailbox
):
    entry = app.conf.beat_schedule["notices-mail-due"]
    assert entry["task"] == notices_mail_due_task.name
    assert entry["schedule"].minute == {5} and len(entry["schedule"].hour) == 24
    notice_create(actor=network.north_admin, name="Renew soon", text="T", days_before=7)
    assert notices_mail_due_task.apply().get() == {"sent": 1}
    assert len(outbox) == 1


def _run_in_thread(barrier, results, key):
    from django.db import connection

    try:
        barrier.wait(timeout=10)
        results[key] = notices_mail_due(now=NOW)
    except Exception as error:  # reported by the test, not lost in the thread
        results[key] = error
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_given_two_runs_at_once_then_each_mail_is_sent_once(network, expiring, outbox, north_mailbox):
    import threading

    notice_create(actor=network.north_admin, name="Renew soon", text="T", days_before=7)
    notice_create(actor=network.north_admin, name="Month", text="T", days_before=30)
    barrier, results = threading.Barrier(2), {}
    threads = [threading.Thread(target=_run_in_thread, args=(barrier, results, key)) for key in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) in ([0, 2], [1, 1]), results
    assert sorted(m.subject for m in outbox) == ["Keyline: Month", "Keyline: Renew soon"]
    assert NoticeMailed.objects.count() == 2 and Event.objects.filter(action=Action.NOTICE_SENT).count() == 2


def test_given_a_site_in_french_then_the_mail_is_in_french(network, expiring, outbox, north_mailbox, settings):
    settings.LANGUAGE_CODE = "fr"
    notice_create(actor=network.north_admin, name="Renouveler", text="Commandez.", days_before=7)
    notices_mail_due(now=NOW)
    (message,) = outbox
    assert message.subject == "Keyline : Renouveler"
    assert "Une unité de North Sales perd sa couverture au plus tard le 8 mars 2027 :" in message.body


def test_given_more_users_in_an_account_then_the_job_reads_its_notices_and_codes_no_more_often(network, clock, outbox):
    """What is due depends on the account (its notices, codes and zone): worked out once per
    account, whatever its number of users (only the mails themselves cost per user)."""
    notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)  # nothing expires: no mail
    network.north_admin.email = "ops@north.example"
    network.north_admin.save(update_fields=["email"])

    def queries_of_one_run() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert notices_mail_due(now=NOW) == 0
        return len(captured)

    one_user = queries_of_one_run()
    for n in range(3):
        operator = factories.user(network.north, role="operator", username=f"north-op{n}")
        operator.email = f"op{n}@north.example"
        operator.save(update_fields=["email"])
    assert queries_of_one_run() == one_user
