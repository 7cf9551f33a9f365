"""Row locks, taken in one order by every service: units before codes, each in primary-key
order, so two bulk changes never wait for each other in a cycle.

`FOR NO KEY UPDATE` (`no_key=True`): nothing here changes a key, and unlike `FOR UPDATE` it does
not block the `FOR KEY SHARE` lock a new row referencing the locked one takes. SQLite has no row
locks; its transactions start IMMEDIATE (cms/settings.py), which serialises writers instead.
"""

from collections.abc import Iterable

from django.db.models import Q, Subquery

from units.models import Unit
from units.status_cache import status_forget

from ..models import ON_UNIT_STATES, Code


def _locked(queryset):
    return queryset.order_by("pk").select_for_update(of=("self",), no_key=True)


def lock_units(unit_ids: Iterable[int | None]) -> dict[int, Unit]:
    """The units (with their owner) a service is about to change, or whose codes it changes. Their
    unit-status answers are dropped once the change commits."""
    ids = {i for i in unit_ids if i is not None}
    if not ids:
        return {}
    units = {unit.pk: unit for unit in _locked(Unit.objects.filter(pk__in=ids).select_related("owner"))}
    status_forget((unit.owner.path, unit.hardware_id) for unit in units.values())
    return units


def lock_codes(code_ids: Iterable[int], *, on_units: Iterable[int] = ()) -> dict[int, Code]:
    """The given codes together with every code recorded as sitting on the given units (call with
    those units locked first), each with its holder."""
    code_ids, unit_ids = set(code_ids), set(on_units)
    if not code_ids and not unit_ids:
        return {}
    wanted = Q(pk__in=code_ids) | Q(unit_id__in=unit_ids, status__in=ON_UNIT_STATES)
    return {code.pk: code for code in _locked(Code.objects.filter(wanted).select_related("holder"))}


def lock_unit_for_redemption(canonical_text: str, hardware_id: str) -> Unit | None:
    """The unit with this hardware id at the provider of the code with this text, locked, with
    its owner and `code_id` (the code's id, locked next). None when either does not exist."""
    code = Code.objects.filter(text=canonical_text)
    unit = (
        _locked(
            Unit.objects.filter(hardware_id=hardware_id, provider_id__in=code.values("provider_id")).select_related("owner")
        )
        .annotate(code_id=Subquery(code.order_by().values("pk")[:1]))
        .first()
    )
    if unit is not None:
        status_forget([(unit.owner.path, unit.hardware_id)])
    return unit
