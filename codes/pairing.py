"""Read-only pairing of units with codes, for the "apply codes" and "attach from CSV" actions.

Nothing here changes anything: the pairs are shown to the user for confirmation and then handed
to `codes.services.codes_attach`, which checks every rule again, under row locks, all-or-nothing.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import Account
from units.models import Unit, normalize_hardware_id
from units.selectors import units_visible_to

from . import text as code_text
from .models import Code, CodeState
from .rules import code_state, reserved_refusal
from .selectors import codes_visible_to, state_q


@dataclass(frozen=True)
class Unpaired:
    unit: Unit
    reason: str


@dataclass
class Pairing:
    period_days: int
    pairs: list[tuple[Unit, Code]] = field(default_factory=list)
    unpaired: list[Unpaired] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unpaired and bool(self.pairs)


def usable_q(now: datetime) -> Q:
    """Available codes an automatic choice may take: not reserved for the recipient of a mail. On
    an available code a reservation holds exactly while it has a date (`codes.rules.reservation_of`)."""
    return state_q(CodeState.AVAILABLE, now) & Q(reserved_at__isnull=True)


def available_periods(*, user, now: datetime | None = None) -> list[int]:
    """The periods (days) of the available codes the user may use, shortest first."""
    now = now or timezone.now()
    return sorted(
        codes_visible_to(user)
        .filter(usable_q(now))
        .order_by()
        .values_list("period_days", flat=True)
        .distinct()
    )


def _ancestor_paths(owner: Account, top: Account) -> list[str]:
    """Paths of `owner` and its ancestors down from `top` (both included), deepest first."""
    step = owner.steplen
    return [owner.path[:end] for end in range(len(owner.path), len(top.path) - 1, -step)]


def pair_units_with_codes(*, user, units, period_days: int, now: datetime | None = None) -> Pairing:
    """Pair each unit with one available code of `period_days` that the user may use: held by
    the user's account or an account below it, and by an account that contains the unit's owner
    (DOMAIN.md, invariant 4), and not reserved for the recipient of a mail.

    The code held closest to the unit is preferred (a code already shared down to the unit's
    branch is used before the stock above it), then the earliest use-by date, then the oldest
    code. Units are served deepest owner first, which with that preference pairs as many units as
    the codes allow. Units the user cannot see are reported unpaired, never paired.
    """
    now = now or timezone.now()
    account = user.account
    result = Pairing(period_days=period_days)
    units = list(units)
    visible_ids = set(units_visible_to(user).filter(pk__in=[u.pk for u in units]).values_list("pk", flat=True))
    owners = {a.pk: a for a in Account.objects.filter(pk__in={u.owner_id for u in units})}

    wanted: dict[str, int] = {}  # holder path -> how many units could use a code held there
    chains: dict[int, list[str]] = {}
    for unit in units:
        owner = owners.get(unit.owner_id)
        if unit.pk not in visible_ids or owner is None or not account.contains(owner):
            continue
        chains[unit.pk] = _ancestor_paths(owner, account)
        for path in chains[unit.pk]:
            wanted[path] = wanted.get(path, 0) + 1

    # One small query per holder account: at most as many codes as there are units it could serve.
    stock: dict[str, list[Code]] = {}
    holders = dict(Account.objects.filter(path__in=list(wanted)).values_list("path", "pk"))
    candidates = codes_visible_to(user).filter(usable_q(now), period_days=period_days)
    for path, holder_id in holders.items():
        stock[path] = list(
            candidates.filter(holder_id=holder_id)
            .select_related("holder")
            .order_by(F("use_by").asc(nulls_last=True), "pk")[: wanted[path]]
        )

    def depth_first(unit):
        owner = owners.get(unit.owner_id)
        return (-(owner.depth if owner else 0), unit.pk)

    paired: dict[int, Code] = {}
    for unit in sorted(units, key=depth_first):
        if unit.pk not in chains:
            result.unpaired.append(Unpaired(unit, _("No such unit in your part of the network.")))
            continue
        code = None
        for path in chains[unit.pk]:
            if stock.get(path):
                code = stock[path].pop(0)
                break
        if code is None:
            result.unpaired.append(
                Unpaired(
                    unit,
                    _("No available code of %(days)d days is left for the branch of %(owner)s.")
                    % {"days": period_days, "owner": owners[unit.owner_id].name},
                )
            )
        else:
            paired[unit.pk] = code
    # Shown in the order the user chose the units.
    result.pairs = [(unit, paired[unit.pk]) for unit in units if unit.pk in paired]
    order = {u.pk: i for i, u in enumerate(units)}
    result.unpaired.sort(key=lambda u: order[u.unit.pk])
    return result


# --- attach from CSV --------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvLine:
    number: int  # 1-based line number in the file
    hardware_id: str
    code_text: str  # as typed


@dataclass(frozen=True)
class LineError:
    number: int
    text: str  # the line as it was
    reason: str


@dataclass
class CsvPairing:
    pairs: list[tuple[Unit, Code]] = field(default_factory=list)
    lines: dict[int, int] = field(default_factory=dict)  # code pk -> line number
    errors: list[LineError] = field(default_factory=list)


def resolve_csv_lines(*, user, lines: list[CsvLine], now: datetime | None = None) -> CsvPairing:
    """Find the unit and the code each line names, among those the user may see. Every line is
    checked; problems are reported per line. Codes that exist but cannot be attached (already
    used, expired, outside the unit's branch...) are left for `codes_attach` to refuse, with the
    same reasons everywhere."""
    now = now or timezone.now()
    result = CsvPairing()
    hardware_ids = {normalize_hardware_id(line.hardware_id) for line in lines}
    canonical = {line.number: code_text.normalize(line.code_text) for line in lines}
    units = {
        u.hardware_id: u
        for u in units_visible_to(user).filter(hardware_id__in=hardware_ids).select_related("owner")
    }
    codes = {
        c.text: c
        for c in codes_visible_to(user).filter(text__in=set(canonical.values())).select_related("holder")
    }
    seen_codes: dict[str, int] = {}
    seen_units: dict[int, int] = {}
    for line in lines:
        raw = f"{line.hardware_id}, {line.code_text}"
        text = canonical[line.number]
        unit = units.get(normalize_hardware_id(line.hardware_id))
        code = codes.get(text)
        reason = None
        if unit is None:
            reason = _("No unit with hardware id %(hardware_id)s in your part of the network.") % {
                "hardware_id": line.hardware_id
            }
        elif not code_text.is_well_formed(text):
            reason = _("The code looks mistyped: check it.")
        elif code is None:
            reason = _("No such code in your part of the network.")
        elif text in seen_codes:
            reason = _("This code is already on line %(line)d.") % {"line": seen_codes[text]}
        elif code_state(code, now) != CodeState.AVAILABLE and code_state(code, now) != CodeState.RELEASED:
            reason = _("This code cannot be attached: it is %(state)s.") % {
                "state": CodeState(code_state(code, now)).label.lower()
            }
        elif (reserved := reserved_refusal(code, now)) is not None:
            reason = reserved.reason
        if reason is not None:
            result.errors.append(LineError(line.number, raw, reason))
            continue
        seen_codes[text] = line.number
        seen_units.setdefault(unit.pk, line.number)
        result.pairs.append((unit, code))
        result.lines[code.pk] = line.number
    return result
