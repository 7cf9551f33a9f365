"""Row locks for the service layer.

Every service that changes codes or units locks the rows first, always in the same order
(units, then codes) and in primary-key order within each table, so two bulk actions never wait
for each other in a cycle.

The locks are `FOR NO KEY UPDATE` (`no_key=True`): nothing here changes a key, and unlike
`FOR UPDATE` this mode does not block the `FOR KEY SHARE` lock PostgreSQL takes on a row that a
new audit event references. Otherwise a refused redemption, recording its `redeem_refused` entry
(which references the code and then the unit), could deadlock with the redemption that won. On SQLite `select_for_update` is a no-op; there the embedded settings
open every transaction with BEGIN IMMEDIATE, which serialises writers instead.
"""

from collections.abc import Iterable

from django.db.models import Subquery

from units.cover_cache import units_changed
from units.models import Unit

from .models import Code


def lock_units(unit_ids: Iterable[int]) -> dict[int, Unit]:
    """Lock units that the caller is about to change, or whose codes it is about to change.

    Every service that changes a unit's cover (attach, release, redeem, a customer's move)
    locks the unit here first, so this is also where the unit's cached cover record
    (`units.cover_cache`, read by the unit-status call) is given up: at once and again after
    commit. A refused change only costs the next status call one rebuild."""
    ids = sorted(set(i for i in unit_ids if i is not None))
    if not ids:
        return {}
    rows = Unit.objects.filter(pk__in=ids).select_related("owner").order_by("pk").select_for_update(of=("self",), no_key=True)
    units = {unit.pk: unit for unit in rows}
    units_changed(unit.hardware_id for unit in units.values())
    return units


def lock_unit_for_code(code_text: str, hardware_id: str) -> Unit | None:
    """Find the unit with this hardware id of the provider whose code this is, and lock it, in
    one statement (the redemption path: a hardware id is unique only within a provider, and the
    code, locked next, comes after its unit). The unit comes with its owner and `code_id`, the
    code's id; None when there is no such code, or no such unit at the code's provider. Like
    `lock_units`, gives up the unit's cached cover record."""
    code = Code.objects.filter(text=code_text).order_by()
    unit = next(
        iter(
            Unit.objects.filter(provider_id=Subquery(code.values("provider_id")[:1]), hardware_id=hardware_id)
            .annotate(code_id=Subquery(code.values("pk")[:1]))
            .select_related("owner")
            .order_by()
            .select_for_update(of=("self",), no_key=True)[:1]
        ),
        None,
    )
    if unit is not None:
        units_changed([unit.hardware_id])
    return unit


def lock_codes(code_ids: Iterable[int], **filters) -> dict[int, Code]:
    ids = sorted(set(code_ids))
    if not ids:
        return {}
    rows = (
        Code.objects.filter(pk__in=ids, **filters)
        .select_related("holder")
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    )
    return {code.pk: code for code in rows}


def lock_chain(unit_id: int, now) -> list[Code]:
    """The codes sitting on a unit now (running, then scheduled in order), locked. Call with
    the unit already locked."""
    return list(
        Code.objects.filter(unit_id=unit_id, activated_at__isnull=False, expires_at__gt=now)
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    )
