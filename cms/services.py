"""Changes to the account tree and its users."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import DomainError, NotFound, PermissionDenied
from .models import Account, validate_time_zone


def provider_create(*, name: str, time_zone: str = "UTC") -> Account:
    """A new tree. Only platform operators do this (admin site, seeding, tests)."""
    validate_time_zone(time_zone)
    return Account.objects.add_root({"name": name, "kind": Account.Kind.PROVIDER, "time_zone": time_zone})


def account_create(*, actor, parent: Account, name: str, kind: str, time_zone: str | None = None) -> Account:
    """A reseller or customer below `parent`, which must be in the actor's part of the tree."""
    if actor is not None:  # None: seeding and platform operators
        if actor.account_id is None or not actor.is_account_admin:
            raise PermissionDenied(_("Only account admins can create accounts."))
        if not actor.account.contains(parent):
            raise NotFound(_("No such account in your part of the network."))
    if kind not in (Account.Kind.RESELLER, Account.Kind.CUSTOMER):
        raise DomainError(_("An account below the provider is a reseller or a customer."), code="validation_error")
    if parent.is_customer:
        raise DomainError(_("A customer has no accounts below it."), code="validation_error")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("An account needs a name."), code="validation_error")
    time_zone = time_zone or parent.time_zone
    validate_time_zone(time_zone)
    with transaction.atomic():
        parent = Account.objects.select_for_update().get(pk=parent.pk)
        return Account.objects.add_child(parent, {"name": name, "kind": kind, "time_zone": time_zone})


def user_create(*, actor, account: Account, username: str, password: str, role: str, email: str = ""):
    if actor is not None:
        if actor.account_id is None or not actor.is_account_admin:
            raise PermissionDenied(_("Only account admins can manage users."))
        if not actor.account.contains(account):
            raise NotFound(_("No such account in your part of the network."))
    User = get_user_model()
    if role not in User.Role.values:
        raise DomainError(_("Unknown role."), code="validation_error")
    user = User(username=username, account=account, role=role, email=email)
    user.set_password(password)
    user.save()
    return user
