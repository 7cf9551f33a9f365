"""Reads of units, scoped to what the user may see. Whether a unit is active is derived from its
codes and the clock: `codes.cover`."""

from django.db.models import QuerySet

from cms.selectors import active_account

from .models import Unit


def units_visible_to(user) -> QuerySet[Unit]:
    """Units owned by the user's account or anything below it."""
    account = active_account(user)
    if account is None:
        return Unit.objects.none()
    if account.depth == 1:  # a provider's by its provider column: cheaper than the path
        return Unit.objects.filter(provider_id=account.pk)
    return Unit.objects.filter(owner__path__startswith=account.path)
