"""API filters. Codes reuse the Codes window's FilterSet (`codes.filtersets.CodeFilterSet`: the
same questions, the same answers); only how the schema describes some filters differs here.
Batches have their own small one."""

import copy

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cms.api.filtersets import InstantRangeFilter, IntegerFilter
from codes.filtersets import CodeFilterSet
from codes.models import Batch


class CodeApiFilterSet(CodeFilterSet):
    pass


# Describe, for the OpenAPI schema, filters whose type drf-spectacular would otherwise guess from
# the database backend (period_days: a choice among the caller's batches' periods) or whose
# help text speaks of the window's check boxes. Copies, so the window's filters stay untouched.
_SCHEMA = {
    "period_days": (OpenApiTypes.INT, _("Period in days: one of the periods of your batches.")),
    "state": (None, _("One or more states (repeat the parameter). None: all but expired and revoked.")),
}
for _name, (_type, _help) in _SCHEMA.items():
    _filter = copy.deepcopy(CodeApiFilterSet.base_filters[_name])
    _filter.extra["help_text"] = _help
    if _type is not None:
        extend_schema_field(_type)(_filter)
    CodeApiFilterSet.base_filters[_name] = _filter


class BatchFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Batch.Status.choices)
    period_days = IntegerFilter(label=_("Period (days)"))
    created = InstantRangeFilter(label=_("Created"), field_name="created_at")

    class Meta:
        model = Batch
        fields = ["status", "period_days", "created"]
