"""The rules of a code's life (DOMAIN.md), as pure decisions over loaded rows and the clock.

The services ask these before they change anything, on rows they have locked; previews, forms
and the API ask the same functions on rows they have read. Nothing here touches the database.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cms.errors import DomainError, Refusal

from .models import ON_UNIT_STATES, Code, CodeState

# --- a code's state ------------------------------------------------------------------------------


def code_state(code, now: datetime | None = None) -> CodeState:
    """The state the clock gives a code (or any row with the same fields). `state_q` in
    `codes.selectors` says the same in SQL; a property test holds the two together."""
    now = now or timezone.now()
    if code.revoked_at is not None:
        return CodeState.REVOKED
    if code.activated_at is None:
        if code.usable_until is not None and code.usable_until <= now:
            return CodeState.EXPIRED  # never applied before its use-by day ended: lapsed
        return CodeState.AVAILABLE
    if code.expires_at <= now:
        return CodeState.EXPIRED
    if code.unit_id is None:
        return CodeState.RELEASED
    if code.activated_at <= now:
        return CodeState.RUNNING
    return CodeState.SCHEDULED


def use_by_passed(code, now: datetime) -> bool:
    """Never applied, and its use-by day has ended in the provider's time zone."""
    return code.activated_at is None and code.usable_until is not None and code.usable_until <= now


def whole_days(remaining: timedelta | None) -> int | None:
    """Whole days of a time left, never below 0; None without one."""
    return None if remaining is None else max(0, remaining // timedelta(days=1))


# --- a unit's cover --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    """What keeps a unit active: the code running now and the codes queued behind it, in order."""

    now: datetime
    running: Code | None
    scheduled: list[Code]

    @property
    def chain(self) -> list[Code]:
        return ([self.running] if self.running else []) + self.scheduled

    @property
    def is_active(self) -> bool:
        return self.running is not None

    @property
    def covered_until(self) -> datetime | None:
        chain = self.chain
        return chain[-1].expires_at if chain else None

    @property
    def days_left(self) -> int:
        until = self.covered_until
        return whole_days(until - self.now) if until else 0

    @property
    def seconds_until_change(self) -> float | None:
        """How long this cover reads the same: until a code starts or ends, or a day of it passes."""
        moments = [code.expires_at for code in self.chain] + [code.activated_at for code in self.scheduled]
        if not moments:
            return None
        to_next = min(moment - self.now for moment in moments)
        to_day = (self.covered_until - self.now) % timedelta(days=1)
        return min(to_next, to_day or timedelta(days=1)).total_seconds()


def cover_of(codes, now: datetime) -> Cover:
    """The cover made of the codes recorded on one unit: those that started or wait to start and
    have not ended. A unit is active exactly when one of them runs now (invariant 2)."""
    live = sorted(
        (c for c in codes if c.activated_at is not None and c.expires_at > now),
        key=lambda c: c.activated_at,
    )
    running = live[0] if live and live[0].activated_at <= now else None
    return Cover(now=now, running=running, scheduled=[c for c in live if c is not running])


# --- attaching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an attached code lands on its unit's cover."""

    starts_at: datetime
    ends_at: datetime
    scheduled: bool

    @property
    def status(self) -> CodeState:
        return CodeState.SCHEDULED if self.scheduled else CodeState.RUNNING


def label(code: Code | None, pk: int | None = None) -> str:
    return code.display_text if code is not None else f"#{pk}"


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def not_found(item: str, what: str = "code") -> Refusal:
    message = _("No such unit in your part of the network.") if what == "unit" else _(
        "No such code in your part of the network."
    )
    return Refusal(item, message, "not_found")


def attach_refusal(code: Code, unit, cover: Cover, now: datetime, *, by_text: bool = False) -> Refusal | None:
    """Why this code cannot go onto this unit now, or None. `code.holder` and `unit.owner` are
    loaded; `cover` is the unit's cover, including codes attached earlier in the same call.
    `by_text`: a redemption by the code's text, which its holder may make though the code is
    reserved (holding the text is the recipient's proof)."""
    item = code.display_text
    state = code_state(code, now)
    if state == CodeState.REVOKED:
        return Refusal(item, _("This code has been revoked."), "code_revoked")
    if state == CodeState.EXPIRED:
        if use_by_passed(code, now):
            return Refusal(
                item, _("This code had to be used by %(date)s.") % {"date": date_format(code.use_by)},
                "code_use_by_passed",
            )
        return Refusal(item, _("This code has expired."), "code_expired")
    if state in ON_UNIT_STATES:
        return Refusal(item, _("This code is already in use on a unit."), "code_already_used")
    if not by_text and (reserved := reserved_refusal(code, now)) is not None:
        return reserved
    if not code.holder.contains(unit.owner):
        return Refusal(
            item,
            _("Unit %(unit)s is outside the part of the network that holds this code (%(holder)s).")
            % {"unit": unit.hardware_id, "holder": code.holder.name},
            "outside_branch",
        )
    if state == CodeState.RELEASED and cover.is_active:
        # A started code keeps its own clock: it can only fill a unit that has no cover.
        return Refusal(
            item,
            _(
                "This code has already started and keeps running on its own clock; it can only go onto a unit "
                "without cover, and unit %(unit)s is covered until %(until)s."
            )
            % {"unit": unit.hardware_id, "until": _when(cover.covered_until)},
            "unit_covered",
        )
    return None


def attach_placement(code: Code, cover: Cover, now: datetime) -> Placement:
    """A released code runs on its own clock from now; an unstarted one starts now on a unit
    without cover, or queues behind the cover with no gap and no lost day."""
    if code.activated_at is not None:
        return Placement(starts_at=code.activated_at, ends_at=code.expires_at, scheduled=False)
    start = cover.covered_until or now
    return Placement(starts_at=start, ends_at=start + timedelta(days=code.period_days), scheduled=start > now)


# --- redeeming: the public page's answers ----------------------------------------------------------

#: What an end customer is told, by refusal: the page, the API and the preview say the same.
REDEEM_ANSWERS = {
    "code_mistyped": lambda: _("This code looks mistyped: check it and try again."),
    "code_not_valid": lambda: _("This code is not valid."),
    "code_already_used": lambda: _("This code has already been used."),
    "code_expired": lambda: _("This code has expired."),
    "unit_not_eligible": lambda: _("No unit with this hardware id can take this code."),
    "unit_covered": lambda: _(
        "This code has already started and runs on its own clock: it can only go onto a unit without cover."
    ),
    "permission_denied": lambda: _("You are not allowed to do this."),
}

#: An attach refusal as a redemption answers it: a revoked, lapsed or unknown code reads "not
#: valid" alike, so nobody can probe which.
_REDEEM_ANSWER_FOR = {
    "not_found": "code_not_valid",
    "code_revoked": "code_not_valid",
    "code_use_by_passed": "code_not_valid",
    "code_expired": "code_expired",
    "code_already_used": "code_already_used",
    "outside_branch": "unit_not_eligible",
    "unit_covered": "unit_covered",
}


def redeem_refusal(reason: str) -> DomainError:
    """The redemption's answer for a refusal code (its own, or an attach refusal's)."""
    answer = _REDEEM_ANSWER_FOR.get(reason, reason)
    return DomainError(str(REDEEM_ANSWERS[answer]()), code=answer)


# --- sharing, recalling, revoking, releasing ----------------------------------------------------


def _state_refusal(code: Code, now: datetime, verb: str, allowed: tuple[CodeState, ...]) -> Refusal | None:
    state = code_state(code, now)
    if state in allowed:
        return None
    if state in ON_UNIT_STATES:
        reason = _("Only a code that sits on no unit can be %(verb)s; release it first.") % {"verb": verb}
    elif CodeState.RELEASED in allowed:
        reason = _("This code is %(state)s: it can no longer be %(verb)s.") % {
            "verb": verb,
            "state": CodeState(state).label.lower(),
        }
    else:
        reason = _("Only a code that has never started can be %(verb)s; this one is %(state)s.") % {
            "verb": verb,
            "state": CodeState(state).label.lower(),
        }
    return Refusal(code.display_text, reason, "invalid_state")


#: A code on no unit moves in the tree whether or not its clock runs: a released code's remaining
#: time can be taken back from a departing dealer, or handed to another (DOMAIN.md, invariant 3).
ON_NO_UNIT_STATES = (CodeState.AVAILABLE, CodeState.RELEASED)


def share_refusal(code: Code, target, now: datetime) -> Refusal | None:
    """Sharing moves a code on no unit down the tree, strictly below its holder (invariant 3)."""
    if (refusal := _state_refusal(code, now, _("shared"), ON_NO_UNIT_STATES) or reserved_refusal(code, now)) is not None:
        return refusal
    if not code.holder.strictly_contains(target):
        return Refusal(
            code.display_text,
            _("%(target)s is not below %(holder)s, the code's holder.") % {"target": target.name, "holder": code.holder.name},
            "outside_branch",
        )
    if not target.is_active:
        return Refusal(code.display_text, _("%(target)s is disabled.") % {"target": target.name}, "invalid_state")
    return None


def recall_refusal(code: Code, account, now: datetime) -> Refusal | None:
    """Recalling moves a code on no unit, held below the caller's account, up to it."""
    if code.holder_id == account.pk:
        return Refusal(code.display_text, _("Your account already holds this code."), "invalid_state")
    return _state_refusal(code, now, _("recalled"), ON_NO_UNIT_STATES) or reserved_refusal(code, now)


def revoke_refusal(code: Code, now: datetime) -> Refusal | None:
    """Only a code that never started can be voided."""
    return _state_refusal(code, now, _("revoked"), (CodeState.AVAILABLE,)) or reserved_refusal(code, now)


def release_refusal(code: Code, now: datetime) -> Refusal | None:
    """A code on a unit comes off it; a queued code past its use-by date stays, since taking it
    off would void it: it never started, and the use-by date limits the first use."""
    state = code_state(code, now)
    if state not in ON_UNIT_STATES:
        return Refusal(code.display_text, _("This code is not on a unit."), "invalid_state")
    if state == CodeState.SCHEDULED and code.usable_until is not None and code.usable_until <= now:
        return Refusal(
            code.display_text,
            _(
                "This code is queued and has not started; its use-by date %(date)s has passed, so releasing it "
                "would void it. It stays queued and starts when the cover before it ends."
            )
            % {"date": date_format(code.use_by)},
            "code_use_by_passed",
        )
    return None


def release_ends_cover(cover: Cover, released_ids) -> bool:
    """Whether taking these codes off a unit leaves it without cover now. The codes left on it close
    up behind its running code, or start now, with no gap: the unit goes inactive only when it was
    active and every code of its cover comes off."""
    return cover.is_active and all(code.pk in released_ids for code in cover.chain)


# --- reservations: codes e-mailed to someone -------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    recipient: str
    since: datetime


def reservation_of(code, now: datetime | None = None, state: str | None = None) -> Reservation | None:
    """The reservation a code e-mailed to someone is under, or None. It holds while the code can
    still be redeemed (on no unit, not over): redeeming the code or cancelling the reservation
    clears it, and it ends with the code when the clock ends it (its use-by date or period).
    `state`: the code's state when already known (annotated in SQL on lists)."""
    if code.reserved_at is None:
        return None
    if (state or code_state(code, now or timezone.now())) not in ON_NO_UNIT_STATES:
        return None
    return Reservation(recipient=code.reserved_for, since=code.reserved_at)


def _reserved(code: Code, reservation: Reservation) -> Refusal:
    return Refusal(
        code.display_text,
        _("Reserved for %(recipient)s since %(date)s: cancel the reservation first.")
        % {"recipient": reservation.recipient, "date": _when(reservation.since)},
        "code_reserved",
    )


def reserved_refusal(code: Code, now: datetime) -> Refusal | None:
    """A staff action that would take a reserved code from its recipient (attaching it by hand,
    sharing, recalling, revoking) waits until the reservation is cancelled: never silently."""
    reservation = reservation_of(code, now)
    return None if reservation is None else _reserved(code, reservation)


def same_address(one: str, other: str) -> bool:
    return one.strip().casefold() == other.strip().casefold()


def send_refusal(code: Code, recipient: str, now: datetime) -> Refusal | None:
    """A code is e-mailed only while it can still be redeemed. Sending it reserves it for the
    address: again to the same address is fine, to another one only once the reservation is
    cancelled."""
    state = code_state(code, now)
    if state not in ON_NO_UNIT_STATES:
        return Refusal(
            code.display_text,
            _("This code is %(state)s: it can no longer be redeemed.") % {"state": CodeState(state).label.lower()},
            "invalid_state",
        )
    reservation = reservation_of(code, now, state)
    if reservation is not None and not same_address(reservation.recipient, recipient):
        return _reserved(code, reservation)
    return None


def cancel_reservation_refusal(code: Code, now: datetime) -> Refusal | None:
    if reservation_of(code, now) is None:
        return Refusal(code.display_text, _("This code is not reserved."), "invalid_state")
    return None
