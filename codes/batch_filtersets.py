import django_filters
from django.utils.translation import gettext_lazy as _

from cms.web.filters import DayRangeFilter, FilterForm

from .models import Batch


class BatchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Note"), field_name="note", lookup_expr="icontains")
    period_days = django_filters.NumberFilter(label=_("Period (days)"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Batch.Status.choices, empty_label=_("Any"))
    created = DayRangeFilter(label=_("Created"), field_name="created_at__date")

    class Meta:
        model = Batch
        fields = ["q", "period_days", "status", "created"]
        form = FilterForm
