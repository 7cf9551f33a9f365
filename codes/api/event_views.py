from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from audit.models import Event
from audit.selectors import events_visible_to
from cms.api.errors import errors
from cms.api.views import ApiViewMixin

from .event_filtersets import EventFilterSet
from .event_serializers import EventSerializer


@extend_schema_view(
    list=extend_schema(
        summary="The activation-code report",
        description="Audit events of your part of the network, newest first.",
        responses={200: EventSerializer, **errors()},
    ),
    retrieve=extend_schema(summary="One audit event", responses={200: EventSerializer, **errors(404)}),
)
class EventViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    queryset = Event.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return events_visible_to(self.request.user).select_related("code", "unit")
