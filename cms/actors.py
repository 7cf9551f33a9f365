"""Who acts on codes: a signed-in user, the system (background jobs), or an anonymous visitor
of the public redemption page."""

from dataclasses import dataclass


@dataclass(frozen=True)
class _NonUserActor:
    label: str
    account = None
    pk = None
    is_authenticated = False

    def __str__(self):
        return self.label


SYSTEM = _NonUserActor("system")
ANONYMOUS = _NonUserActor("anonymous")


def is_person(actor) -> bool:
    return not isinstance(actor, _NonUserActor) and getattr(actor, "is_authenticated", False)


# --- who may act: shared by every service module --------------------------------------------


def require_account(actor):
    """The actor's account, if the actor is an active user of an active account."""
    from django.utils.translation import gettext as _

    from .errors import PermissionDenied

    if not is_person(actor) or actor.account_id is None or not actor.is_active:
        raise PermissionDenied()
    account = actor.account
    if not account.is_active:
        raise PermissionDenied(_("Your account is disabled."))
    return account


def require_writer(actor):
    """As `require_account`, for roles that may change things (admin, operator)."""
    from django.utils.translation import gettext as _

    from .errors import PermissionDenied

    account = require_account(actor)
    if not actor.can_write:
        raise PermissionDenied(_("Your role can only view."))
    return account
