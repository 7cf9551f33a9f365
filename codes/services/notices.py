"""Expiry notices an account sets up for its users: create, change, delete, mark seen. Which
notices are due is read by `codes.notices`."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_record
from cms.actors import require_writer
from cms.errors import DomainError, NotFound
from cms.validators import typed_text

from ..models import ExpiryNotice, NoticeSeen

MIN_DAYS, MAX_DAYS = 1, 99


def _validated(*, name: str, text: str, days_before) -> tuple[str, str, int]:
    name, text = typed_text(name, label=_("Name")), typed_text(text, label=_("Text"), multiline=True)
    if not name:
        raise DomainError(_("A notice needs a name."), code="invalid")
    if len(name) > ExpiryNotice._meta.get_field("name").max_length:
        raise DomainError(_("The name is too long (100 characters at most)."), code="invalid")
    if not text:
        raise DomainError(_("A notice needs a text."), code="invalid")
    try:
        days = int(days_before)
    except (TypeError, ValueError):
        days = 0
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise DomainError(
            _("Days before expiry must be between %(min)d and %(max)d.") % {"min": MIN_DAYS, "max": MAX_DAYS},
            code="invalid",
        )
    return name, text, days


#: What an entry about a notice names of it (its text shows only when it changes).
_FIELDS = ("name", "text", "days_before", "show_repeatedly")


def _record(action: str, notice: ExpiryNotice, *, actor, **details) -> None:
    event_record(action=action, actor=actor, account=notice.account, details={"notice": notice.name, **details})


@transaction.atomic
def notice_create(*, actor, name: str, text: str, days_before: int, show_repeatedly: bool = True) -> ExpiryNotice:
    account = require_writer(actor)
    name, text, days = _validated(name=name, text=text, days_before=days_before)
    notice = ExpiryNotice.objects.create(
        account=account, name=name, text=text, days_before=days, show_repeatedly=bool(show_repeatedly)
    )
    _record(Action.NOTICE_CREATED, notice, actor=actor, days_before=days, show_repeatedly=notice.show_repeatedly)
    return notice


def _own_notice(actor, notice) -> ExpiryNotice:
    account = require_writer(actor)
    pk = notice.pk if isinstance(notice, ExpiryNotice) else notice
    found = ExpiryNotice.objects.select_for_update().filter(pk=pk, account_id=account.pk).first()
    if found is None:
        raise NotFound(_("No such notice in your account."))
    return found


@transaction.atomic
def notice_update(
    *, actor, notice: ExpiryNotice | int, name: str, text: str, days_before: int, show_repeatedly: bool
) -> ExpiryNotice:
    """Change a notice. Turning "show repeatedly" off later starts "once" from now: users who saw it
    before have no record and see it once more."""
    found = _own_notice(actor, notice)
    before = {field: getattr(found, field) for field in _FIELDS}
    found.name, found.text, found.days_before = _validated(name=name, text=text, days_before=days_before)
    found.show_repeatedly = bool(show_repeatedly)
    changed = {field: [old, getattr(found, field)] for field, old in before.items() if old != getattr(found, field)}
    if changed:
        found.save(update_fields=list(_FIELDS))
        _record(Action.NOTICE_CHANGED, found, actor=actor, **changed)
    return found


@transaction.atomic
def notice_delete(*, actor, notice: ExpiryNotice | int) -> None:
    found = _own_notice(actor, notice)
    _record(Action.NOTICE_DELETED, found, actor=actor)
    found.delete()


def notices_mark_seen(*, user, notices) -> int:
    """Record that the user was shown these show-once notices (idempotent)."""
    rows = [NoticeSeen(notice_id=n.pk, user_id=user.pk) for n in notices if not n.show_repeatedly]
    if not rows:
        return 0
    try:
        with transaction.atomic():
            NoticeSeen.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError:  # a notice deleted meanwhile
        return 0
    return len(rows)
