"""Moving codes on no unit through the network, and voiding unstarted ones (invariant 3): share
down to an account below the holder, recall up to the caller's account, revoke (provider admins).
All or nothing."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_build, events_write
from cms.actors import require_writer
from cms.errors import NotFound
from cms.models import Account

from .. import rules
from ..models import Code, CodeState
from .common import each_code, ids_of, pk_of, require_provider_admin
from .locks import lock_codes


def move_holder(codes: list[Code], *, to: Account, action: str, actor, now: datetime, details=None) -> int:
    """Hand these locked codes to another holder, with an entry each (from, to)."""
    events = []
    for code in codes:
        from_account = code.holder
        code.holder = to
        events.append(
            event_build(
                action=action, actor=actor, occurred_at=now, code=code, unit_id=code.unit_id,
                from_account=from_account, to_account=to, details=details,
            )
        )
    Code.objects.filter(pk__in=[c.pk for c in codes]).update(holder=to)
    events_write(events)
    return len(codes)


def _bulk(codes: Iterable[Code | int], *, account: Account, refusal, change) -> int:
    """Lock the codes named, check each with `refusal`, then `change` them all; all or nothing."""
    ids = ids_of(codes)
    if not ids:
        return 0
    with transaction.atomic():
        return change(each_code(ids, lock_codes(ids), account, refusal))


def codes_share(*, codes: Iterable[Code | int], to_account: Account | int, actor, now: datetime | None = None) -> int:
    """Move codes on no unit down the tree to an account below their current holder."""
    now = now or timezone.now()
    account = require_writer(actor)
    target = Account.objects.filter(pk=pk_of(to_account)).first()
    if target is None or not account.contains(target):
        raise NotFound(_("No such account in your part of the network."))
    return _bulk(
        codes, account=account, refusal=lambda code: rules.share_refusal(code, target, now),
        change=lambda chosen: move_holder(chosen, to=target, action=Action.SHARED, actor=actor, now=now),
    )


def code_share(*, code: Code | int, to_account: Account | int, actor, now: datetime | None = None) -> int:
    return codes_share(codes=[code], to_account=to_account, actor=actor, now=now)


def codes_recall(*, codes: Iterable[Code | int], actor, now: datetime | None = None) -> int:
    """Move codes on no unit held below the actor's account back up to it."""
    now = now or timezone.now()
    account = require_writer(actor)
    return _bulk(
        codes, account=account, refusal=lambda code: rules.recall_refusal(code, account, now),
        change=lambda chosen: move_holder(chosen, to=account, action=Action.RECALLED, actor=actor, now=now),
    )


def code_recall(*, code: Code | int, actor, now: datetime | None = None) -> int:
    return codes_recall(codes=[code], actor=actor, now=now)


def codes_revoke(*, codes: Iterable[Code | int], actor, reason: str = "", now: datetime | None = None) -> int:
    """Void codes that never started (provider admins only). Final."""
    now = now or timezone.now()
    account = require_provider_admin(actor)

    def void(chosen: list[Code]) -> int:
        for code in chosen:
            code.revoked_at, code.status = now, CodeState.REVOKED
        Code.objects.filter(pk__in=[c.pk for c in chosen]).update(revoked_at=now, status=CodeState.REVOKED)
        details = {"reason": reason} if reason else {}
        events_write([event_build(action=Action.REVOKED, actor=actor, occurred_at=now, code=c, details=details) for c in chosen])
        return len(chosen)

    return _bulk(codes, account=account, refusal=lambda code: rules.revoke_refusal(code, now), change=void)


def code_revoke(*, code: Code | int, actor, reason: str = "", now: datetime | None = None) -> int:
    return codes_revoke(codes=[code], actor=actor, reason=reason, now=now)
