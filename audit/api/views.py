from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from audit.models import Event
from cms.api.errors import errors
from cms.api.pagination import Cursor
from cms.api.views import ApiViewMixin

from .filtersets import EventFilterSet
from .serializers import EventSerializer


def events_visible_to(user):
    """The report's rows a user may read: events whose account, or the account codes moved
    from, lies in the user's part of the tree."""
    account = getattr(user, "account", None)
    if account is None or not account.is_active:
        return Event.objects.none()
    return Event.objects.filter(
        Q(account__path__startswith=account.path) | Q(from_account__path__startswith=account.path)
    )


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
    filter_backends = [DjangoFilterBackend]
    filterset_class = EventFilterSet
    pagination_class = Cursor
    queryset = Event.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return events_visible_to(self.request.user).select_related("code", "unit")
