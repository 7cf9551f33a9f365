from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cms.models import Account
from cms.web.filters import bounded

#: The instants an instant filter takes: any an integrator means, and far from the ends of the
#: calendar, where an instant's offset would carry it outside what Python and the databases hold.
FIRST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(3000, 1, 1, tzinfo=UTC)
#: The whole numbers a database compares with a column (a signed 64-bit integer).
SMALLEST, LARGEST = -(2**63), 2**63 - 1


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="icontains")
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=Account.Kind.choices)
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Account
        fields = ["q", "kind", "is_active"]


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter also takes 0.5) that a database can compare."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", SMALLEST)
        kwargs.setdefault("max_value", LARGEST)
        super().__init__(*args, **kwargs)


class InstantRangeField(django_filters.fields.IsoDateTimeRangeField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bounded(self, FIRST_INSTANT, LAST_INSTANT)


class InstantRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """A range of ISO 8601 instants, each between FIRST_INSTANT and LAST_INSTANT."""

    field_class = InstantRangeField
