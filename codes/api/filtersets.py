"""API filters for codes reuse the Codes window's FilterSet (`codes.filtersets.CodeFilterSet`);
batches have their own small one."""

import django_filters
from django.utils.translation import gettext_lazy as _

from codes.models import Batch


class BatchFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Batch.Status.choices)
    period_days = django_filters.NumberFilter(label=_("Period (days)"))
    created = django_filters.IsoDateTimeFromToRangeFilter(label=_("Created"), field_name="created_at")

    class Meta:
        model = Batch
        fields = ["status", "period_days", "created"]
