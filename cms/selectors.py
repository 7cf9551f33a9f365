"""Reads of the account tree, always limited to what the user may see."""

from django.db.models import QuerySet

from .models import Account


def accounts_visible_to(user) -> QuerySet[Account]:
    """The user's account and everything below it (one indexed prefix query)."""
    account = getattr(user, "account", None)
    if account is None or not account.is_active:
        return Account.objects.none()
    return Account.objects.filter(path__startswith=account.path)


def accounts_below(user) -> QuerySet[Account]:
    """Accounts strictly below the user's own: where the user can share codes to."""
    return accounts_visible_to(user).exclude(pk=user.account_id)
