"""An end customer applies a code to their own unit: the public redemption page, a signed-in
customer, or the API. `redeem_preview` answers what `code_redeem` would do, read-only, through
the same steps and the same rules (`codes.rules`), so the page's confirmation step cannot promise
what the redemption then refuses; tests/redeem/test_redeem_preview_agrees.py holds them together.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.models import Action, Event
from audit.services import event_build, events_write
from cms.actors import ANONYMOUS, is_person, require_writer
from cms.errors import DomainError
from cms.models import Account
from units.models import Unit, normalize_hardware_id

from .. import ratelimits, rules
from .. import text as code_text
from ..models import ON_UNIT_STATES, Code
from .attaching import Pairing, attach_pairs
from .locks import lock_unit_for_redemption


def _own_account(actor) -> Account | None:
    """A signed-in redeemer's account (None for an anonymous visitor): redeems onto its own units only."""
    if not is_person(actor):
        return None
    try:
        return require_writer(actor)
    except DomainError:
        raise rules.redeem_refusal("permission_denied") from None


def _target_unit(typed_code: str, typed_hardware_id: str, *, actor, lock: bool, found: dict) -> Unit:
    """The unit the attempt names, at the provider of the code it names, with `code_id`: locked
    for the redemption, read for the preview. Raises the redemption's answer when there is none
    the actor may redeem onto; `found` receives the code or unit identified before a refusal,
    for its audit entry."""
    canonical = code_text.normalize(typed_code)
    if not code_text.is_well_formed(canonical):
        raise rules.redeem_refusal("code_mistyped")
    own = _own_account(actor)
    hardware_id = normalize_hardware_id(typed_hardware_id)
    if lock:
        unit = lock_unit_for_redemption(canonical, hardware_id)
    else:
        code = Code.objects.filter(text=canonical)
        unit = (
            Unit.objects.filter(hardware_id=hardware_id, provider_id__in=code.values("provider_id"))
            .select_related("owner")
            .annotate(code_id=code.order_by().values("pk")[:1])
            .first()
        )
    if unit is None:
        code = Code.objects.filter(text=canonical).select_related("provider").first()
        if code is None or (own is not None and code.provider.path != own.provider_path):
            raise rules.redeem_refusal("code_not_valid")
        found["code"] = code
        # Unknown here, whether or not another provider has a unit by that id: one answer for both,
        # so nobody can probe which hardware ids exist at other providers.
        raise rules.redeem_refusal("unit_not_eligible")
    if own is not None and own.provider_path != unit.owner.provider_path:
        raise rules.redeem_refusal("code_not_valid")
    found["code_id"] = unit.code_id
    if own is not None and not own.contains(unit.owner):
        raise rules.redeem_refusal("unit_not_eligible")
    found["unit"] = unit
    return unit


@dataclass(frozen=True)
class RedeemPreview:
    code: Code
    unit: Unit
    now: datetime
    starts_at: datetime  # when the code starts (or started: a released code keeps its clock)
    ends_at: datetime
    scheduled: bool  # it queues behind the unit's current cover

    @property
    def period_days(self) -> int:
        return self.code.period_days


def redeem_preview(
    *, code_text_typed: str, hardware_id: str, actor=ANONYMOUS, now: datetime | None = None, found: dict | None = None
) -> RedeemPreview:
    """What `code_redeem` would do now, read-only; raises the refusal it would give."""
    now = now or timezone.now()
    found = {} if found is None else found
    unit = _target_unit(code_text_typed, hardware_id, actor=actor, lock=False, found=found)
    code = Code.objects.select_related("holder").get(pk=unit.code_id)
    found["code"] = code
    chain = Code.objects.filter(unit=unit, status__in=ON_UNIT_STATES)
    cover = rules.cover_of(chain, now)
    if (refusal := rules.attach_refusal(code, unit, cover, now, by_text=True)) is not None:
        raise rules.redeem_refusal(refusal.code)
    placement = rules.attach_placement(code, cover, now)
    return RedeemPreview(
        code=code, unit=unit, now=now, starts_at=placement.starts_at, ends_at=placement.ends_at,
        scheduled=placement.scheduled,
    )


def code_redeem(
    *, code_text: str, hardware_id: str, actor=ANONYMOUS, client_address: str | None = None, now: datetime | None = None
) -> Code:
    """Apply the code to the unit, by the rules of attaching. A refusal is recorded as
    `redeem_refused` (outside the refused transaction) and raised with the public answer."""
    found: dict = {}
    try:
        with transaction.atomic():
            unit = _target_unit(code_text, hardware_id, actor=actor, lock=True, found=found)
            try:
                return attach_pairs(
                    [Pairing(unit.code_id, unit.pk)], actor=actor, visible_from=None, now=now, redeemed=True,
                    client_address=client_address, units={unit.pk: unit},
                )[0]
            except DomainError as error:
                raise rules.redeem_refusal(error.refusals[0].code if error.refusals else error.code) from error
    except DomainError as refusal:
        code = found.get("code")
        if code is None and "code_id" in found:
            code = Code.objects.filter(pk=found["code_id"]).first()
        redeem_refusal_record(
            reason=refusal.code, actor=actor, client_address=client_address, code=code, unit=found.get("unit"), now=now
        )
        raise


def redeem_refusal_record(
    *, reason: str, actor=ANONYMOUS, client_address: str | None = None, code=None, unit=None,
    details: dict | None = None, now: datetime | None = None,
) -> Event:
    """One `redeem_refused` entry, in its own transaction. `reason` is the stable refusal code
    (`code_mistyped`, `confirmation_tampered`, ...); the typed code and hardware
    id never go into `details`: the code and unit rows, when identified, say which ones."""
    with transaction.atomic():
        return events_write(
            [
                event_build(
                    action=Action.REDEEM_REFUSED, actor=actor, occurred_at=now or timezone.now(), code=code, unit=unit,
                    client_address=client_address, details={"reason": reason, **(details or {})},
                )
            ]
        )[0]


def redeem_limit_record(
    *, limited: ratelimits.Limited, actor=ANONYMOUS, client_address: str | None = None, now: datetime | None = None
) -> list[Event]:
    """The trace of a rate-limited attempt: one `redeem_refused` entry for each limit this attempt
    was the first to go over in its window, and nothing for the attempts after it, which only the
    counters count (ADR 49). Nothing is looked up: the entry names the limit, not the code or unit."""
    if not limited.reached:
        return []
    account = actor.account if is_person(actor) else None
    with transaction.atomic():
        return events_write(
            [
                event_build(
                    action=Action.REDEEM_REFUSED, actor=actor, occurred_at=now or timezone.now(), account=account,
                    client_address=client_address,
                    details={"reason": "rate_limited", "limit": scope, "rate": ratelimits.redeem_rate(scope)},
                )
                for scope in limited.reached
            ]
        )
