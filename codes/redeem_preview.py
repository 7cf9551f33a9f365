"""What `codes.services.code_redeem` would do, read-only: the confirmation step of the
redemption page shows it before the customer commits.

It asks the same questions in the same order as the service, through the same selectors
(`code_state`, `code_use_by_passed`, `units.selectors.unit_cover`), and answers with the same
refusal codes and words. It locks nothing and writes nothing: the service decides again when
the customer confirms, and the tests compare the two on every outcome.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms.actors import ANONYMOUS, is_person
from cms.errors import DomainError
from units.models import Unit, normalize_hardware_id
from units.selectors import unit_cover

from . import text as code_text
from .models import ON_UNIT_STATES, Code, CodeState
from .selectors import code_by_text, code_state, code_use_by_passed

#: The public page's answers, by refusal code: the same words as the service's.
ANSWERS = {
    "code_mistyped": _("This code looks mistyped: check it and try again."),
    "code_not_valid": _("This code is not valid."),
    "code_already_used": _("This code has already been used."),
    "code_expired": _("This code has expired."),
    "unit_not_eligible": _("No unit with this hardware id can take this code."),
    "unit_covered": _(
        "This code has already started and runs on its own clock: it can only go onto a unit without cover."
    ),
    "permission_denied": _("You are not allowed to do this."),
}

#: Which form field an answer is about.
CODE_FIELD_ANSWERS = {"code_mistyped", "code_not_valid", "code_already_used", "code_expired", "unit_covered"}
UNIT_FIELD_ANSWERS = {"unit_not_eligible"}


def refusal(code: str) -> DomainError:
    return DomainError(str(ANSWERS[code]), code=code)


@dataclass(frozen=True)
class RedeemPreview:
    code: Code
    unit: Unit
    now: datetime
    starts_at: datetime  # when the code starts (or started: a released code keeps its clock)
    ends_at: datetime  # the unit's cover end once redeemed
    scheduled: bool  # True when it queues behind the unit's current cover

    @property
    def period_days(self) -> int:
        return self.code.period_days


def redeem_preview(
    *,
    code_text_typed: str,
    hardware_id: str,
    actor=ANONYMOUS,
    now: datetime | None = None,
    found: dict | None = None,
) -> RedeemPreview:
    """The unit, period and resulting cover end of redeeming this code onto this unit now;
    raises `DomainError` with the refusal `code_redeem` would give. `found` (a dict), if given,
    receives the "code" and "unit" identified before a refusal, for the audit entry."""
    now = now or timezone.now()
    found = {} if found is None else found
    canonical = code_text.normalize(code_text_typed)
    if not code_text.is_well_formed(canonical):
        raise refusal("code_mistyped")
    own_account = None
    if is_person(actor):
        own_account = getattr(actor, "account", None)
        if own_account is None or not actor.is_active or not own_account.is_active or not actor.can_write:
            raise refusal("permission_denied")
    code = code_by_text(canonical)
    if code is None or (own_account is not None and code.provider_id != own_account.get_provider().pk):
        raise refusal("code_not_valid")
    found["code"] = code
    unit = (
        Unit.objects.filter(provider_id=code.provider_id, hardware_id=normalize_hardware_id(hardware_id))
        .select_related("owner")
        .first()
    )
    if unit is None and Unit.objects.filter(hardware_id=normalize_hardware_id(hardware_id)).exists():
        raise refusal("code_not_valid")  # the code is of another provider than the unit
    if unit is None or (own_account is not None and not own_account.contains(unit.owner)):
        raise refusal("unit_not_eligible")
    found["unit"] = unit
    state = code_state(code, now)
    if state == CodeState.REVOKED:
        raise refusal("code_not_valid")
    if state == CodeState.EXPIRED:
        raise refusal("code_not_valid" if code_use_by_passed(code, now) else "code_expired")
    if state in ON_UNIT_STATES:
        raise refusal("code_already_used")
    if not code.holder.contains(unit.owner):
        raise refusal("unit_not_eligible")
    cover = unit_cover(unit, now)
    if state == CodeState.RELEASED:
        if cover.is_active:
            raise refusal("unit_covered")
        return RedeemPreview(
            code=code, unit=unit, now=now, starts_at=code.activated_at, ends_at=code.expires_at, scheduled=False
        )
    start = cover.covered_until or now
    return RedeemPreview(
        code=code,
        unit=unit,
        now=now,
        starts_at=start,
        ends_at=start + timedelta(days=code.period_days),
        scheduled=start > now,
    )
