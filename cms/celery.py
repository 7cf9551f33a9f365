"""The Celery application. Beat's schedule is fixed here: it needs no database tables."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")

app = Celery("cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "codes-expire-due": {
        "task": "codes.tasks.codes_expire_due_task",
        "schedule": 60.0,
    },
    # A large batch whose fill died with its worker is sent to the workers again (ADR 39).
    "batches-resume-stalled": {
        "task": "codes.tasks.batches_resume_stalled_task",
        "schedule": 60.0,
    },
    "codes-archive-expired": {
        "task": "codes.tasks.codes_archive_expired_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Hourly, so each account gets its mails in its own morning; each is sent once a day at most.
    "notices-mail-due": {
        "task": "codes.tasks.notices_mail_due_task",
        "schedule": crontab(minute=5),
    },
}
