"""Row locks for the service layer.

Every service that changes codes or units locks the rows first, always in the same order
(units, then codes) and in primary-key order within each table, so two bulk actions never wait
for each other in a cycle. On SQLite `select_for_update` is a no-op; there the embedded settings
open every transaction with BEGIN IMMEDIATE, which serialises writers instead.
"""

from collections.abc import Iterable

from units.models import Unit

from .models import Code


def lock_units(unit_ids: Iterable[int]) -> dict[int, Unit]:
    ids = sorted(set(i for i in unit_ids if i is not None))
    if not ids:
        return {}
    rows = Unit.objects.filter(pk__in=ids).select_related("owner").order_by("pk").select_for_update(of=("self",))
    return {unit.pk: unit for unit in rows}


def lock_codes(code_ids: Iterable[int], **filters) -> dict[int, Code]:
    ids = sorted(set(code_ids))
    if not ids:
        return {}
    rows = (
        Code.objects.filter(pk__in=ids, **filters)
        .select_related("holder")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {code.pk: code for code in rows}


def lock_chain(unit_id: int, now) -> list[Code]:
    """The codes sitting on a unit now (running, then scheduled in order), locked. Call with
    the unit already locked."""
    return list(
        Code.objects.filter(unit_id=unit_id, activated_at__isnull=False, expires_at__gt=now)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
