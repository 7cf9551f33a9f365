"""Celery tasks: thin wrappers around services. Each job of beat's schedule takes a short lock in
the cache so two ticks never run it side by side (the services would be safe anyway: row locks).
The tasks a service queues itself, after its commit, live beside it and are registered here."""

import functools

from celery import group, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from . import services
from .services.batches import batch_fill_task  # noqa: F401  (registered for the worker)
from .services.mail import codes_send_mail_task  # noqa: F401

LOCK_SECONDS = 15 * 60


def single_run(name):
    """A beat job that skips a run while another run holds its lock (`name`, or a function of the
    job's arguments giving it)."""

    def decorate(job):
        @functools.wraps(job)
        def run(*args, **kwargs):
            key = f"task-lock:{name(*args, **kwargs) if callable(name) else name}"
            if not cache.add(key, "1", LOCK_SECONDS):
                return {"skipped": True}
            try:
                return job(*args, **kwargs)
            finally:
                cache.delete(key)

        return run

    return decorate


@shared_task
def codes_expire_due_task() -> dict:
    """Every minute. With KEYLINE_EXPIRY_PARTITIONS above 1 (PostgreSQL), the due codes are split
    into that many disjoint partitions, run as a group by the workers side by side."""
    partitions = settings.KEYLINE_EXPIRY_PARTITIONS if connection.vendor == "postgresql" else 1
    if partitions > 1:
        group(codes_expire_partition_task.s(k, partitions) for k in range(partitions)).apply_async()
        return {"partitions": partitions}
    return codes_expire_partition_task(0, 1)


@shared_task
@single_run(lambda k, n: "codes_expire_due" if n == 1 else f"codes_expire_due:{k}/{n}")
def codes_expire_partition_task(k: int, n: int) -> dict:
    run = services.codes_expire_due(partition=(k, n))
    return {"expired": run.expired, "started": run.started, "units_changed": run.units_changed}


@shared_task
@single_run("codes_archive_expired")
def codes_archive_expired_task() -> dict:
    return {"archived": services.codes_archive_expired()}


@shared_task
@single_run("notices_mail_due")
def notices_mail_due_task() -> dict:
    return {"sent": services.notices_mail_due()}
