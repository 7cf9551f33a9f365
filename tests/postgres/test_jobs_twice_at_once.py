"""Beat's jobs take no lock of their own (ADR 40): two runs of one job at once, as a minute's run
beside one a killed worker's lock no longer holds back, record each change once on their row
locks. The expiry job's races are in test_concurrency.py."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from audit.models import Action, Event
from codes.models import Code
from codes.services import code_attach, codes_archive_expired, notice_create, notices_mail_due
from tests import factories
from tests.postgres.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_archive_runs_at_once_archive_each_expired_code_once(network):
    started = datetime.now(UTC) - timedelta(days=31)
    codes = factories.codes(network.provider_admin, quantity=12, period_days=30, now=started)
    for code in codes:
        code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                    actor=network.provider_admin, now=started)

    runs = race([lambda: codes_archive_expired(chunk_size=5), lambda: codes_archive_expired(chunk_size=5)])

    assert not [r for r in runs if isinstance(r, Exception)], runs
    assert sum(runs) == 12
    assert Code.objects.filter(archived_at__isnull=False, unit__isnull=True).count() == 12
    for action in (Action.EXPIRED, Action.ARCHIVED):
        entries = Event.objects.filter(action=action)
        assert entries.count() == 12 and entries.values("code").distinct().count() == 12, action


def test_two_notice_mail_runs_at_once_send_each_mail_once(network, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)  # past the mail hour, in UTC
    started = now - timedelta(days=25)
    (code,) = factories.codes(network.provider_admin, quantity=1, period_days=30, now=started)
    code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                actor=network.provider_admin, now=started)
    network.provider_admin.email = "admin@acme.example"
    network.provider_admin.save(update_fields=["email"])
    notice_create(actor=network.provider_admin, name="Week", text="Renew", days_before=7)

    runs = race([lambda: notices_mail_due(now=now), lambda: notices_mail_due(now=now)])

    assert sorted(runs) == [0, 1], runs
    assert len(mail.outbox) == 1
    assert Event.objects.filter(action=Action.NOTICE_SENT).count() == 1
