"""Changes to the account tree and its users."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .actors import require_account
from .errors import DomainError, NotFound, PermissionDenied, Refusal
from .hotcache import accounts_changed, logins_changed
from .models import Account, validate_time_zone


def provider_create(*, name: str, time_zone: str = "UTC") -> Account:
    """A new tree. Only platform operators do this (admin site, seeding, tests)."""
    validate_time_zone(time_zone)
    return Account.objects.add_root({"name": name, "kind": Account.Kind.PROVIDER, "time_zone": time_zone})


def account_create(*, actor, parent: Account, name: str, kind: str, time_zone: str | None = None) -> Account:
    """A reseller or customer below `parent`, which must be in the actor's part of the tree."""
    if actor is not None:  # None: seeding and platform operators
        scope = _require_admin(actor)
        _in_scope(scope, parent)
        if not parent.is_active:
            raise DomainError(_("%(account)s is disabled.") % {"account": parent.name}, code="validation_error")
    if kind not in (Account.Kind.RESELLER, Account.Kind.CUSTOMER):
        raise DomainError(_("An account below the provider is a reseller or a customer."), code="validation_error")
    if parent.is_customer:
        raise DomainError(_("A customer has no accounts below it."), code="validation_error")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("An account needs a name."), code="validation_error")
    time_zone = time_zone or parent.time_zone
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise DomainError(_("%(value)s is not a known time zone.") % {"value": time_zone}, code="validation_error")
    with transaction.atomic():
        parent = Account.objects.select_for_update().get(pk=parent.pk)
        return Account.objects.add_child(parent, {"name": name, "kind": kind, "time_zone": time_zone})


def user_create(
    *, actor, account: Account, username: str, password: str | None, role: str, email: str = "",
    first_name: str = "", last_name: str = "",
):
    """A new user of `account` (the actor's own or one below it), with a validated password
    (None: no usable password yet, see `user_invite`)."""
    if actor is not None:
        scope = _require_admin(actor)
        _in_scope(scope, account)
    User = get_user_model()
    if role not in User.Role.values:
        raise DomainError(_("Unknown role."), code="validation_error")
    username = (username or "").strip()
    if not username:
        raise DomainError(_("A user needs a username."), code="validation_error")
    user = User(
        username=username, account=account, role=role, email=(email or "").strip(),
        first_name=(first_name or "").strip(), last_name=(last_name or "").strip(),
    )
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="validation_error")
    if actor is not None and password is not None:
        _validated_password(password, user)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise DomainError(_("The username %(username)s is taken.") % {"username": username}, code="username_taken")
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    return user


def user_invite(
    *, actor, account: Account, username: str, email: str, role: str, first_name: str = "", last_name: str = "",
):
    """A new user without a password, invited by e-mail to choose one (the link works once, for
    PASSWORD_RESET_TIMEOUT seconds). The mail leaves when the transaction commits."""
    from .invitations import invitation_send

    email = (email or "").strip()
    if not email:
        raise DomainError(_("An invitation needs an e-mail address."), code="validation_error")
    with transaction.atomic():
        user = user_create(
            actor=actor, account=account, username=username, password=None, role=role, email=email,
            first_name=first_name, last_name=last_name,
        )
        transaction.on_commit(lambda: invitation_send(user=user, invited_by=actor))
    return user


# --- who may manage accounts and users ----------------------------------------------------------


def _require_admin(actor) -> Account:
    """The actor's account, if the actor is an active admin of an active account."""
    account = require_account(actor)
    if not actor.is_account_admin:
        raise PermissionDenied(_("Only account admins can manage accounts and users."))
    return account


def _in_scope(scope: Account, account: Account, *, strictly: bool = False) -> None:
    inside = scope.strictly_contains(account) if strictly else scope.contains(account)
    if not inside or scope.provider_path != account.provider_path:
        raise NotFound(_("No such account in your part of the network."))


def _user_in_scope(scope: Account, user) -> None:
    if user.account_id is None or not scope.contains(user.account):
        raise NotFound(_("No such user in your part of the network."))


# --- accounts -----------------------------------------------------------------------------------


def account_update(*, actor, account: Account, name: str, time_zone: str) -> Account:
    """Rename an account in the actor's part of the tree (its own included) or change its time zone."""
    scope = _require_admin(actor)
    _in_scope(scope, account)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("An account needs a name."), code="validation_error")
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise DomainError(_("%(value)s is not a known time zone.") % {"value": time_zone}, code="validation_error")
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        zone_moved = account.is_provider and account.time_zone != time_zone
        account.name = name
        account.time_zone = time_zone
        account.save(update_fields=["name", "time_zone"])
        if zone_moved:
            # A use-by date is a day in the provider's zone: its unused codes' deadlines move with it.
            from codes.use_by import usable_until_follow_zone

            usable_until_follow_zone(provider_id=account.pk, time_zone=time_zone)
        accounts_changed()  # the unit-status call names each unit's owner
    return account


def account_set_active(*, actor, account: Account, active: bool) -> Account:
    """Disable (or enable again) an account strictly below the actor's own, with its branch.
    Nothing is deleted: the users of a disabled account cannot sign in, its units and codes stay
    where they are.

    Disabling an account disables every account below it too (a reseller that stops trading
    takes its sub-resellers and customers with it); each records who disabled it
    (`Account.disabled_by`). Enabling the account again enables exactly the accounts its
    disabling disabled: one below that was disabled on its own stays disabled. An account
    cannot be enabled while an account above it is disabled."""
    scope = _require_admin(actor)
    _in_scope(scope, account, strictly=True)
    with transaction.atomic():
        # The branch and the accounts above it, locked in path order (the order every writer of
        # the tree takes), so two admins changing nested accounts at once cannot interleave.
        above = [account.path[:end] for end in range(account.steplen, len(account.path), account.steplen)]
        locked = list(
            Account.objects.filter(Q(path__startswith=account.path) | Q(path__in=above))
            .order_by("path").select_for_update()
        )
        account = next(a for a in locked if a.pk == account.pk)
        ancestors = [a for a in locked if a.path in above]
        branch = Account.objects.filter(path__startswith=account.path)
        if active:
            disabled_above = [a for a in ancestors if not a.is_active]
            if disabled_above:
                raise DomainError(
                    _("%(account)s is disabled: enable it first.") % {"account": disabled_above[0].name},
                    code="invalid_state",
                )
            changed = branch.filter(Q(disabled_by=account) | Q(pk=account.pk, is_active=False)).update(
                is_active=True, disabled_by=None
            )
        else:
            # Also taken over: accounts this branch holds disabled only because an account above
            # disabled them, so enabling that one later leaves this branch disabled.
            changed = branch.filter(
                Q(is_active=True) | Q(disabled_by__in=[a.pk for a in ancestors]) | Q(pk=account.pk)
            ).exclude(disabled_by=account).update(is_active=False, disabled_by=account)
        if changed:
            accounts_changed()  # their users' tokens stop (or start again) working at once
        account.refresh_from_db()
    return account


def account_disable(*, actor, account: Account) -> Account:
    return account_set_active(actor=actor, account=account, active=False)


def account_enable(*, actor, account: Account) -> Account:
    return account_set_active(actor=actor, account=account, active=True)


def account_move_candidates(*, actor, customer: Account):
    """Where a customer may move to: resellers (or the provider) of the actor's part of the tree,
    other than its current parent."""
    scope = _require_admin(actor)
    _in_scope(scope, customer, strictly=True)
    parent_path = customer.path[: -customer.steplen]
    return (
        Account.objects.filter(path__startswith=scope.path, is_active=True)
        .exclude(kind=Account.Kind.CUSTOMER)
        .exclude(path=parent_path)
        .order_by("path")
    )


def account_move_customer(*, actor, customer: Account, new_parent: Account, now=None) -> Account:
    """Move a customer, with its units, below another reseller (or the provider) of the actor's
    part of the tree.

    Its units and the codes it holds move with it (the path changes, no row of theirs does), so
    every code keeps running. Invariant 4 says a code sits only on a unit inside its holder's
    subtree: a code on one of the customer's units that is held by an account of the old branch
    which does not also contain the new parent (typically the old reseller, which attached its
    own stock to the customer's units) would break it after the move. Such a code is handed to
    the customer itself -- the customer is the one using it, and the old branch loses sight of
    the customer anyway -- and that hand-over is written to the audit log as a `shared` entry
    (from the old holder to the customer, details `{"reason": "customer_moved"}`). Codes held
    by an account above both the old and the new parent (the provider, say) stay where they are.
    """
    from audit.models import Action
    from audit.services import event_build, events_write
    from codes.locking import lock_codes, lock_units
    from codes.models import Code
    from units.models import Unit

    now = now or timezone.now()
    scope = _require_admin(actor)
    _in_scope(scope, customer, strictly=True)
    _in_scope(scope, new_parent)
    if not customer.is_customer:
        raise DomainError(_("Only a customer can be moved to another reseller."), code="validation_error")
    if new_parent.is_customer:
        raise DomainError(_("A customer has no accounts below it."), code="validation_error")
    if not new_parent.is_active:
        raise DomainError(_("%(account)s is disabled.") % {"account": new_parent.name}, code="validation_error")
    if customer.path[: -customer.steplen] == new_parent.path:
        raise DomainError(
            _("%(customer)s is already below %(parent)s.") % {"customer": customer.name, "parent": new_parent.name},
            code="validation_error",
        )
    with transaction.atomic():
        # Units before codes, each in primary-key order (codes.locking), like every code service.
        units = lock_units(Unit.objects.filter(owner=customer).values_list("pk", flat=True))
        codes = lock_codes(Code.objects.filter(unit_id__in=list(units)).values_list("pk", flat=True))
        customer = Account.objects.select_for_update().get(pk=customer.pk)
        new_parent = Account.objects.get(pk=new_parent.pk)
        to_hand_over = [
            code
            for code in codes.values()
            if code.holder_id != customer.pk and not code.holder.contains(new_parent)
        ]
        Account.objects.move(customer, new_parent, pos="last-child")
        accounts_changed()  # paths changed: tokens and cover records hold them (lock_units forgot the units)
        customer = Account.objects.get(pk=customer.pk)
        events = []
        for code in to_hand_over:
            from_account = code.holder
            code.holder = customer
            events.append(
                event_build(
                    action=Action.SHARED,
                    actor=actor,
                    occurred_at=now,
                    code=code,
                    unit_id=code.unit_id,
                    from_account=from_account,
                    to_account=customer,
                    details={"reason": "customer_moved", "new_parent": new_parent.pk},
                )
            )
        if to_hand_over:
            Code.objects.filter(pk__in=[c.pk for c in to_hand_over]).update(holder=customer)
        events_write(events)
    return customer


# --- users --------------------------------------------------------------------------------------


def _validated_password(password: str, user) -> str:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="weak_password")
    return password


def user_update(*, actor, user, role: str, email: str = "", first_name: str = "", last_name: str = ""):
    """Change a user's role and contact details; the user belongs to the actor's part of the tree."""
    scope = _require_admin(actor)
    _user_in_scope(scope, user)
    User = get_user_model()
    if role not in User.Role.values:
        raise DomainError(_("Unknown role."), code="validation_error")
    if user.pk == actor.pk and role != user.role:
        raise DomainError(_("You cannot change your own role; ask another admin."), code="own_role")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.role, user.email = role, (email or "").strip()
        user.first_name, user.last_name = (first_name or "").strip(), (last_name or "").strip()
        user.save(update_fields=["role", "email", "first_name", "last_name"])
        logins_changed()
    return user


def user_set_password(*, actor, user, password: str):
    """An admin sets a new password for a user of its part of the tree (validated by the
    password rules in settings)."""
    scope = _require_admin(actor)
    _user_in_scope(scope, user)
    _validated_password(password, user)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def users_set_active(*, actor, users, active: bool) -> int:
    """Disable (or enable) users of the actor's part of the tree; all-or-nothing. A disabled
    user cannot sign in and its open sessions end; nothing is deleted."""
    scope = _require_admin(actor)
    User = get_user_model()
    ids = sorted({u if isinstance(u, int) else u.pk for u in users})
    with transaction.atomic():
        rows = {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("account").order_by("pk").select_for_update(of=("self",))}
        refusals = []
        for pk in ids:
            user = rows.get(pk)
            if user is None or user.account_id is None or not scope.contains(user.account):
                refusals.append(Refusal(f"#{pk}", _("No such user in your part of the network."), "not_found"))
            elif user.pk == actor.pk and not active:
                refusals.append(Refusal(user.username, _("You cannot disable yourself."), "own_user"))
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))
        logins_changed()  # a disabled user's tokens stop working at once
        return User.objects.filter(pk__in=ids).exclude(is_active=active).update(is_active=active)


def user_disable(*, actor, user):
    users_set_active(actor=actor, users=[user], active=False)
    return get_user_model().objects.get(pk=user.pk)


def user_enable(*, actor, user):
    users_set_active(actor=actor, users=[user], active=True)
    return get_user_model().objects.get(pk=user.pk)
