"""Reads of batches.

A batch is the provider's own: its order, its unit price (the provider's cost) and its note are
seen by the provider's users only (`User.is_provider_user`). The accounts below know a code's
batch by its number alone, to filter their codes by it.
"""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from cms.selectors import active_account

from .models import Batch, CodeState
from .selectors import codes_visible_to, state_q


def batches_visible_to(user) -> QuerySet[Batch]:
    """The batches a user may open: its provider's, for the provider's own users; none below."""
    account = active_account(user)
    if account is None or not user.is_provider_user:
        return Batch.objects.none()
    return Batch.objects.filter(provider_id=account.pk)


def batches_of_codes_visible_to(user) -> QuerySet[Batch]:
    """The batches the user's codes came from, to filter the codes by batch or period (for the
    provider's users, every batch of the provider)."""
    account = active_account(user)
    if account is None:
        return Batch.objects.none()
    if user.is_provider_user:
        return batches_visible_to(user)
    return Batch.objects.filter(Exists(codes_visible_to(user).filter(batch=OuterRef("pk"))))


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
