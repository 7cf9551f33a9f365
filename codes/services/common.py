"""What every code service shares: who may act, and the all-or-nothing refusal loop of the bulk
services."""

from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from cms.actors import require_account
from cms.errors import DomainError, PermissionDenied, Refusal
from cms.models import Account

from .. import rules
from ..models import Code


def pk_of(item) -> int:
    return item if isinstance(item, int) else item.pk


def require_provider_admin(actor) -> Account:
    account = require_account(actor)
    if not actor.is_provider_admin:
        raise PermissionDenied(_("Only the provider's admins can do this."))
    return account


def each_code(
    ids: list[int], locked: dict[int, Code], account: Account, refusal: Callable[[Code], Refusal | None]
) -> list[Code]:
    """The locked codes named by `ids`, each checked by `refusal`, in order and once each. Codes
    outside `account`'s branch read as not found. All or nothing: when any is refused, raises
    with every refusal."""
    refusals, chosen, seen = [], [], set()
    for pk in ids:
        code = locked.get(pk)
        if code is None or not account.contains(code.holder):
            refusals.append(rules.not_found(rules.label(code, pk)))
            continue
        if pk in seen:
            continue
        seen.add(pk)
        if (refused := refusal(code)) is not None:
            refusals.append(refused)
            continue
        chosen.append(code)
    if refusals:
        raise DomainError.for_refusals(refusals, len(ids))
    return chosen


def ids_of(items: Iterable) -> list[int]:
    return [pk_of(item) for item in items]
