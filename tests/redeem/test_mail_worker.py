"""The mail task through a real Celery worker (Redis broker): the service queues it after
commit, a worker picks it up and sends the mail."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from cms.celery import app
from codes.services import codes_send_by_email


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_given_a_running_worker_when_codes_are_sent_then_the_worker_delivers_the_mail(shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert not app.conf.task_always_eager
    code = shop.codes[0]

    app.control.purge()  # nothing left over from other tests in this broker db
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        codes_send_by_email(codes=[code], actor=shop.network.north_admin, recipient="driver@harvest.example")
        deadline = time.monotonic() + 30
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)

    [message] = mail.outbox
    assert message.to == ["driver@harvest.example"] and code.display_text in message.body


def test_given_a_worker_process_when_it_starts_then_it_knows_the_tasks_the_services_queue():
    app.loader.import_default_modules()  # what `celery -A cms worker` does on start: autodiscovery
    assert {"codes.tasks.codes_send_mail_task", "codes.tasks.batch_fill_task"} <= set(app.tasks)
