"""Celery tasks: thin wrappers around services. Each takes a short lock in the cache so two
beat ticks never run the same job side by side (the services are safe anyway: row locks)."""

from contextlib import contextmanager

from celery import shared_task
from django.core.cache import cache

from . import notice_mail, services

LOCK_SECONDS = 15 * 60


@contextmanager
def _single_run(name: str):
    key = f"task-lock:{name}"
    acquired = cache.add(key, "1", LOCK_SECONDS)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(key)


@shared_task
def codes_expire_due_task() -> dict:
    with _single_run("codes_expire_due") as acquired:
        if not acquired:
            return {"skipped": True}
        run = services.codes_expire_due_parallel()
        return {"expired": run.expired, "started": run.started, "units_changed": run.units_changed}


@shared_task
def codes_archive_expired_task() -> dict:
    with _single_run("codes_archive_expired") as acquired:
        if not acquired:
            return {"skipped": True}
        return {"archived": services.codes_archive_expired()}


@shared_task
def batch_fill_task(batch_id: int) -> int:
    return services.batch_fill(batch_id=batch_id).generated_count


@shared_task
def notices_mail_due_task() -> dict:
    with _single_run("notices_mail_due") as acquired:
        if not acquired:
            return {"skipped": True}
        return {"sent": notice_mail.notices_mail_due()}
