"""Celery tasks: thin wrappers around services. Beat's jobs take no lock of their own: each
service is idempotent and safe to run twice at once on its row locks, so a run killed with its
worker holds nothing back from the next one (ADR 40). The tasks a service queues itself, after
its commit, live beside it and are registered here."""

from celery import group, shared_task
from django.conf import settings
from django.db import connection

from . import services
from .services.batches import batch_fill_task  # noqa: F401  (registered for the worker)
from .services.mail import codes_send_mail_task  # noqa: F401


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
def codes_expire_partition_task(k: int, n: int) -> dict:
    run = services.codes_expire_due(partition=(k, n))
    return {"expired": run.expired, "started": run.started, "units_changed": run.units_changed}


@shared_task
def codes_archive_expired_task() -> dict:
    return {"archived": services.codes_archive_expired()}


@shared_task
def notices_mail_due_task() -> dict:
    return {"sent": services.notices_mail_due()}


@shared_task
def batches_resume_stalled_task() -> dict:
    """Every minute: fills lost with a killed worker are sent again."""
    return {"resumed": services.batches_resume_stalled()}
