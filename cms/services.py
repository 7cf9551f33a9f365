"""Changes to the account tree and its users. Each writes its audit entries in its own
transaction; an entry's account is the account the change concerns, and its details name what
changed (an [old, new] pair per changed field), never a password or a key."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model, login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action, Event
from audit.services import event_build, event_record, events_write

from .actors import ANONYMOUS, SYSTEM, require_account
from .authentication import tokens_forget, tokens_revoke
from .errors import DomainError, NotFound, PermissionDenied, Refusal
from .models import Account, ApiToken, validate_time_zone
from .signals import account_updated
from .validators import typed_text


def _acting(actor):
    """Who an entry names: the user, or the system for seeding and platform operators (None)."""
    return SYSTEM if actor is None else actor


def _user_entry(action: str, *, actor, user, account=None, **details) -> Event:
    """An unsaved entry about a user: on the user's account, naming the user."""
    return event_build(
        action=action, actor=_acting(actor), account=account or user.account, details={"user": user.get_username(), **details}
    )


def _user_record(action: str, **kwargs) -> Event:
    return events_write([_user_entry(action, **kwargs)])[0]


def provider_create(*, name: str, time_zone: str = "UTC", actor=None) -> Account:
    """A new tree. Only platform operators do this (`manage.py provider_create`, seeding, tests)."""
    name, time_zone = _name_and_zone(name, time_zone)
    with transaction.atomic():
        provider = Account.objects.add_root({"name": name, "kind": Account.Kind.PROVIDER, "time_zone": time_zone})
        event_record(
            action=Action.ACCOUNT_CREATED, actor=_acting(actor), account=provider,
            details={"kind": provider.kind, "time_zone": time_zone},
        )
    return provider


def account_create(*, actor, parent: Account, name: str, kind: str, time_zone: str | None = None) -> Account:
    """A reseller or customer below `parent`, which must be in the actor's part of the tree."""
    if actor is not None:  # None: seeding and platform operators
        scope = require_admin(actor)
        in_scope(scope, parent)
        if not parent.is_active:
            raise DomainError(_("%(account)s is disabled.") % {"account": parent.name}, code="validation_error")
    if kind not in (Account.Kind.RESELLER, Account.Kind.CUSTOMER):
        raise DomainError(_("An account below the provider is a reseller or a customer."), code="validation_error")
    if parent.is_customer:
        raise DomainError(_("A customer has no accounts below it."), code="validation_error")
    name, time_zone = _name_and_zone(name, time_zone or parent.time_zone)
    with transaction.atomic():
        parent = Account.objects.select_for_update().get(pk=parent.pk)
        account = Account.objects.add_child(parent, {"name": name, "kind": kind, "time_zone": time_zone})
        event_record(
            action=Action.ACCOUNT_CREATED, actor=_acting(actor), account=account,
            details={"kind": kind, "parent": parent.name, "time_zone": time_zone},
        )
    return account


def _name_and_zone(name: str, time_zone: str) -> tuple[str, str]:
    """An account's name and time zone as given, checked."""
    name = typed_text(name, label=_("Name"))
    if not name:
        raise DomainError(_("An account needs a name."), code="validation_error")
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise DomainError(_("%(value)s is not a known time zone.") % {"value": time_zone}, code="validation_error")
    return name, time_zone


def user_create(
    *, actor, account: Account, username: str, password: str | None, role: str, email: str = "",
    first_name: str = "", last_name: str = "",
):
    """A new user of `account` (the actor's own or one below it), with a validated password
    (None: no usable password yet, see `user_invite`)."""
    if actor is not None:
        scope = require_admin(actor)
        in_scope(scope, account)
    User = get_user_model()
    if role not in User.Role.values:
        raise DomainError(_("Unknown role."), code="validation_error")
    username = typed_text(username, label=_("Username"))
    if not username:
        raise DomainError(_("A user needs a username."), code="validation_error")
    user = User(username=username, account=account, role=role, **_user_details(email, first_name, last_name))
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
        _user_record(Action.USER_CREATED, actor=actor, user=user, account=account, role=role)
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
        _user_record(Action.INVITATION_SENT, actor=actor, user=user, account=account, email=email)
        transaction.on_commit(lambda: invitation_send(user=user, invited_by=actor))
    return user


def invitation_accept(*, user, password: str):
    """The invited user chooses a first password through the link (the view checked its token,
    which dies with the password it set)."""
    _validated_password(password, user)
    with transaction.atomic():
        user = get_user_model().objects.select_related("account").select_for_update(of=("self",)).get(pk=user.pk)
        if user.has_usable_password():
            raise DomainError(_("This invitation was already used."), code="invitation_used")
        _user_record(Action.INVITATION_USED, actor=user, user=user)
        return _password_set(user, password, actor=user)


# --- who may manage accounts and users ----------------------------------------------------------


def require_admin(actor) -> Account:
    """The actor's account, if the actor is an active admin of an active account."""
    account = require_account(actor)
    if not actor.is_account_admin:
        raise PermissionDenied(_("Only account admins can manage accounts and users."))
    return account


def in_scope(scope: Account, account: Account, *, strictly: bool = False) -> None:
    inside = scope.strictly_contains(account) if strictly else scope.contains(account)
    if not inside or scope.provider_path != account.provider_path:
        raise NotFound(_("No such account in your part of the network."))


def _userin_scope(scope: Account, user) -> None:
    if user.account_id is None or not scope.contains(user.account):
        raise NotFound(_("No such user in your part of the network."))


# --- accounts -----------------------------------------------------------------------------------


def account_update(*, actor, account: Account, name: str, time_zone: str) -> Account:
    """Rename an account in the actor's part of the tree (its own included) or change its time
    zone; `account_updated` tells the apps that keep copies, under the account's lock."""
    scope = require_admin(actor)
    in_scope(scope, account)
    name, time_zone = _name_and_zone(name, time_zone)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        before = {"name": account.name, "time_zone": account.time_zone}
        if before == {"name": name, "time_zone": time_zone}:
            return account
        account.name = name
        account.time_zone = time_zone
        account.save(update_fields=["name", "time_zone"])
        account_updated.send(sender=Account, account=account, before=before)
        tokens_forget(ApiToken.objects.filter(user__account=account))
        events = []
        if before["name"] != name:
            events.append(event_build(
                action=Action.ACCOUNT_RENAMED, actor=actor, account=account, details={"name": [before["name"], name]}
            ))
        if before["time_zone"] != time_zone:
            events.append(event_build(
                action=Action.ACCOUNT_CHANGED, actor=actor, account=account,
                details={"time_zone": [before["time_zone"], time_zone]},
            ))
        events_write(events)
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
    scope = require_admin(actor)
    in_scope(scope, account, strictly=True)
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
        tokens_forget(ApiToken.objects.filter(user__account__path__startswith=account.path))
        if active:
            disabled_above = [a for a in ancestors if not a.is_active]
            if disabled_above:
                raise DomainError(
                    _("%(account)s is disabled: enable it first.") % {"account": disabled_above[0].name},
                    code="invalid_state",
                )
            changed = list(branch.filter(Q(disabled_by=account) | Q(pk=account.pk, is_active=False)).order_by("path"))
            Account.objects.filter(pk__in=[a.pk for a in changed]).update(is_active=True, disabled_by=None)
        else:
            # Also taken over: accounts this branch holds disabled only because an account above
            # disabled them, so enabling that one later leaves this branch disabled.
            changed = list(
                branch.filter(Q(is_active=True) | Q(disabled_by__in=[a.pk for a in ancestors]) | Q(pk=account.pk))
                .exclude(disabled_by=account).order_by("path")
            )
            Account.objects.filter(pk__in=[a.pk for a in changed]).update(is_active=False, disabled_by=account)
        # One entry per account whose state this changed; those below say whose change took them.
        events_write([
            event_build(
                action=Action.ACCOUNT_ENABLED if active else Action.ACCOUNT_DISABLED, actor=actor, account=changed_one,
                details={} if changed_one.pk == account.pk else {"with_account": account.name},
            )
            for changed_one in changed
        ])
        account.refresh_from_db()
    return account


def account_disable(*, actor, account: Account) -> Account:
    return account_set_active(actor=actor, account=account, active=False)


def account_enable(*, actor, account: Account) -> Account:
    return account_set_active(actor=actor, account=account, active=True)


def account_move_candidates(*, actor, customer: Account):
    """Where a customer may move to: resellers (or the provider) of the actor's part of the tree,
    other than its current parent."""
    scope = require_admin(actor)
    in_scope(scope, customer, strictly=True)
    parent_path = customer.path[: -customer.steplen]
    return (
        Account.objects.filter(path__startswith=scope.path, is_active=True)
        .exclude(kind=Account.Kind.CUSTOMER)
        .exclude(path=parent_path)
        .order_by("path")
    )


# --- users --------------------------------------------------------------------------------------


def _validated_password(password: str, user) -> str:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), code="weak_password")
    return password


def _user_details(email: str, first_name: str, last_name: str) -> dict[str, str]:
    return {
        "email": typed_text(email, label=_("E-mail")),
        "first_name": typed_text(first_name, label=_("First name")),
        "last_name": typed_text(last_name, label=_("Last name")),
    }


def user_update(*, actor, user, role: str, email: str = "", first_name: str = "", last_name: str = ""):
    """Change a user's role and contact details; the user belongs to the actor's part of the tree."""
    scope = require_admin(actor)
    _userin_scope(scope, user)
    User = get_user_model()
    if role not in User.Role.values:
        raise DomainError(_("Unknown role."), code="validation_error")
    if user.pk == actor.pk and role != user.role:
        raise DomainError(_("You cannot change your own role; ask another admin."), code="own_role")
    details = _user_details(email, first_name, last_name)
    with transaction.atomic():
        user = User.objects.select_related("account").select_for_update(of=("self",)).get(pk=user.pk)
        before = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
        old_role = user.role
        user.role = role
        user.email, user.first_name, user.last_name = details["email"], details["first_name"], details["last_name"]
        user.save(update_fields=["role", "email", "first_name", "last_name"])
        tokens_forget(ApiToken.objects.filter(user=user))
        events = []
        if old_role != role:
            events.append(_user_entry(Action.USER_ROLE_CHANGED, actor=actor, user=user, role=[old_role, role]))
        changed = {field: [old, getattr(user, field)] for field, old in before.items() if old != getattr(user, field)}
        if changed:
            events.append(_user_entry(Action.USER_CHANGED, actor=actor, user=user, **changed))
        events_write(events)
    return user


def _password_set(user, password: str, *, actor):
    """Set a locked user's password: its API tokens go with the old one (a token outliving a
    password reset would keep whoever took the account in)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    _user_record(Action.USER_PASSWORD_SET, actor=actor, user=user)
    tokens_revoke(user=user, actor=actor, reason="password_set")
    return user


def user_set_password(*, actor, user, password: str):
    """An admin sets a new password for a user of its part of the tree (validated by the
    password rules in settings)."""
    scope = require_admin(actor)
    _userin_scope(scope, user)
    _validated_password(password, user)
    with transaction.atomic():
        user = get_user_model().objects.select_related("account").select_for_update(of=("self",)).get(pk=user.pk)
        return _password_set(user, password, actor=actor)


def user_change_own_password(*, user, old_password: str, new_password: str):
    """A signed-in user replaces its own password, proving it knows the current one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied()
    with transaction.atomic():
        user = get_user_model().objects.select_related("account").select_for_update(of=("self",)).get(pk=user.pk)
        if not user.check_password(old_password or ""):
            raise DomainError(_("Your current password is not the one you typed."), code="wrong_password")
        _validated_password(new_password, user)
        return _password_set(user, new_password, actor=user)


def user_sign_in(*, request, user, client_address: str | None = None):
    """Open a session for a user whose credentials the sign-in form checked."""
    with transaction.atomic():
        login(request, user)
        event_record(action=Action.SIGNED_IN, actor=user, account=user.account, client_address=client_address)
    return user


def user_locked_out(
    *, username: str, client_address: str | None, lock_lasts: timedelta | None, now: datetime | None = None
) -> Event | None:
    """Record that failed sign-ins locked a user out: once per lock-out, whatever number of tries
    come while it lasts (`lock_lasts`; None: until reset), so strangers cannot grow the log. A
    name no user has locks nobody out and is not recorded."""
    now = now or timezone.now()
    User = get_user_model()
    with transaction.atomic():
        # The user's row serialises two tries that reach the limit together.
        user = User.objects.select_related("account").select_for_update(of=("self",)).filter(username=username).first()
        if user is None:
            return None
        since = now - lock_lasts if lock_lasts is not None else user.last_login
        earlier = Event.objects.filter(
            action=Action.LOCKED_OUT, account_id=user.account_id, client_address=client_address,
            details__user=user.get_username(),
        )
        if since is not None:
            earlier = earlier.filter(occurred_at__gt=since)
        if earlier.exists():
            return None
        return event_record(
            action=Action.LOCKED_OUT, actor=ANONYMOUS, occurred_at=now, account=user.account,
            client_address=client_address, details={"user": user.get_username()},
        )


def users_set_active(*, actor, users, active: bool) -> int:
    """Disable (or enable) users of the actor's part of the tree; all-or-nothing. A disabled
    user cannot sign in and its open sessions end; nothing is deleted."""
    scope = require_admin(actor)
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
        tokens_forget(ApiToken.objects.filter(user_id__in=ids))
        changed = [rows[pk] for pk in ids if rows[pk].is_active != active]
        User.objects.filter(pk__in=[u.pk for u in changed]).update(is_active=active)
        events_write([
            _user_entry(Action.USER_ENABLED if active else Action.USER_DISABLED, actor=actor, user=user)
            for user in changed
        ])
        return len(changed)


def user_disable(*, actor, user):
    users_set_active(actor=actor, users=[user], active=False)
    return get_user_model().objects.get(pk=user.pk)


def user_enable(*, actor, user):
    users_set_active(actor=actor, users=[user], active=True)
    return get_user_model().objects.get(pk=user.pk)
