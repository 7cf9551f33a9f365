"""API filters of units: the Units window's FilterSet (`units.filtersets.UnitFilterSet`: state,
owner "and below", cover ending within N days, no code, free text), unchanged; only how the
schema describes some of its filters differs here."""

import copy

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from units.filtersets import UnitFilterSet


class UnitApiFilterSet(UnitFilterSet):
    pass


# Copies, so the window's filters stay untouched.
for _name in ("owner", "expires_within"):
    _filter = copy.deepcopy(UnitApiFilterSet.base_filters[_name])
    extend_schema_field(OpenApiTypes.INT)(_filter)
    UnitApiFilterSet.base_filters[_name] = _filter
