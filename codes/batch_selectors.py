"""Reads of batches for the Batches pages.

A provider's users see the provider's batches. Users below see, read only, the batches that
the codes they can see came from.
"""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from cms.selectors import active_account

from .models import Batch, CodeState
from .selectors import codes_visible_to, state_q


def batches_visible_to(user) -> QuerySet[Batch]:
    account = active_account(user)
    if account is None:
        return Batch.objects.none()
    if account.depth == 1:
        return Batch.objects.filter(provider_id=account.pk)
    return Batch.objects.filter(Exists(codes_visible_to(user).filter(batch=OuterRef("pk"))))


def batch_owned_by(user, batch: Batch) -> bool:
    """True for the users of the provider that made the batch: they may download its codes."""
    account = getattr(user, "account", None)
    return account is not None and account.depth == 1 and batch.provider_id == account.pk


def batch_state_counts(*, user, batch: Batch, now: datetime | None = None) -> dict[str, int]:
    """How many of the batch's codes (those the user can see) are in each state now: one
    aggregate query, the states derived from the fields and the clock."""
    now = now or timezone.now()
    totals = (
        codes_visible_to(user)
        .filter(batch=batch)
        .aggregate(**{state.value: Count("pk", filter=state_q(state, now)) for state in CodeState})
    )
    return {state.value: totals[state.value] or 0 for state in CodeState}
