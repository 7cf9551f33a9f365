"""Reads of the account tree, always limited to what the user may see."""

from django.db.models import Q, QuerySet

from .models import Account


def active_account(user) -> Account | None:
    """The account a user works in, or None when there is none or it is disabled: every read of
    the window starts from it, and sees nothing without it."""
    account = getattr(user, "account", None)
    return account if account is not None and account.is_active else None


def accounts_visible_to(user) -> QuerySet[Account]:
    """The user's account and everything below it (one indexed prefix query)."""
    account = active_account(user)
    if account is None:
        return Account.objects.none()
    return Account.objects.filter(path__startswith=account.path)


def accounts_below(user) -> QuerySet[Account]:
    """Accounts strictly below the user's own: where the user can share codes to."""
    return accounts_visible_to(user).exclude(pk=user.account_id)


#: Above this many accounts a branch is named by a subquery rather than by its ids.
BRANCH_IDS_LIMIT = 1000


def branch_ids(account: Account) -> tuple[int, list[int] | None]:
    """The provider's id and the ids of `account` and every account below it, in one small
    query, remembered on the account object (a request reads its user's account once).

    Ids rather than a subquery, so the planner can estimate how many codes the branch holds and
    walk the live-codes index in the window's order (ADR 5). A branch of more than
    BRANCH_IDS_LIMIT accounts gives None: the caller then names it by a subquery."""
    cached = account.__dict__.get("_branch_ids")
    if cached is None:
        rows = list(
            Account.objects.filter(Q(path__startswith=account.path) | Q(path=account.provider_path))
            .order_by("path").values_list("pk", "path")[: BRANCH_IDS_LIMIT + 2]
        )
        provider_id = next(pk for pk, path in rows if path == account.provider_path)
        ids = [pk for pk, path in rows if path.startswith(account.path)]
        cached = account.__dict__["_branch_ids"] = (provider_id, ids if len(ids) <= BRANCH_IDS_LIMIT else None)
    return cached


def branch_holder_ids(account: Account) -> list[int] | QuerySet:
    """The accounts of `account`'s branch as a `__in` filter takes them: their ids (see
    `branch_ids`), or the subquery naming them when the branch is over BRANCH_IDS_LIMIT."""
    _provider_id, ids = branch_ids(account)
    if ids is None:
        return Account.objects.filter(path__startswith=account.path).values("pk")
    return ids
