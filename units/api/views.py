from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from cms.api.errors import errors
from cms.api.views import ApiViewMixin
from cms.errors import NotFound
from cms.validators import text_problem
from codes.cover import unit_cover, with_cover
from units.models import Unit, normalize_hardware_id
from units.selectors import units_visible_to
from units.status_cache import status_get, status_key, status_set

from .filtersets import UnitApiFilterSet
from .serializers import UnitDetailSerializer, UnitSerializer

HARDWARE_ID_PARAMETER = OpenApiParameter(
    "hardware_id", OpenApiTypes.STR, OpenApiParameter.PATH,
    description="The unit's hardware id (IMEI or tracker id); case and spaces do not matter.",
)


@extend_schema_view(
    list=extend_schema(summary="List units", responses={200: UnitSerializer, **errors()}),
    retrieve=extend_schema(
        summary="One unit with its cover",
        description="State (derived from the codes and the clock), cover end, the running code and the "
        "scheduled ones. Meant to be asked before accepting data from a unit.",
        parameters=[HARDWARE_ID_PARAMETER],
        responses={200: UnitDetailSerializer, **errors(404)},
    ),
)
class UnitViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = UnitSerializer
    filterset_class = UnitApiFilterSet
    lookup_field = "hardware_id"
    lookup_value_regex = "[^/]+"
    queryset = Unit.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return with_cover(units_visible_to(self.request.user)).select_related("owner")

    def retrieve(self, request, *args, **kwargs):
        account = request.user.account
        hardware_id = normalize_hardware_id(self.kwargs["hardware_id"])
        if text_problem(hardware_id):  # no unit has one (a NUL would even fail PostgreSQL's query)
            raise NotFound(_("No such unit in your part of the network."))
        key, now = status_key(account.provider_path, hardware_id), timezone.now()
        entry = status_get(key, now)
        if entry is None:
            unit = units_visible_to(request.user).select_related("owner").filter(hardware_id=hardware_id).first()
            if unit is None:
                raise NotFound(_("No such unit in your part of the network."))
            unit.cover = unit_cover(unit, now)
            entry = {"owner_path": unit.owner.path, "answer": UnitDetailSerializer(unit).data}
            status_set(key, entry, now=now, seconds_until_change=unit.cover.seconds_until_change)
        if not entry["owner_path"].startswith(account.path):
            raise NotFound(_("No such unit in your part of the network."))
        return Response(entry["answer"])
