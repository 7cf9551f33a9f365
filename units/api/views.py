import functools
import logging

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from cms.api.errors import errors
from cms.api.pagination import Cursor
from cms.api.views import ApiViewMixin
from cms.errors import NotFound
from units.cover_cache import unit_status
from units.models import Unit, normalize_hardware_id
from units.selectors import unit_cover, units_visible_to, with_cover

from .filtersets import UnitApiFilterSet
from .serializers import UnitDetailSerializer, UnitSerializer

logger = logging.getLogger(__name__)

HARDWARE_ID_PARAMETER = OpenApiParameter(
    "hardware_id", OpenApiTypes.STR, OpenApiParameter.PATH,
    description="The unit's hardware id (IMEI or tracker id); case and spaces do not matter.",
)


@extend_schema_view(
    list=extend_schema(summary="List units", responses={200: UnitSerializer, **errors()}),
    retrieve=extend_schema(
        summary="One unit with its cover",
        description="State (derived from the codes and the clock), cover end, the running code and the "
        "scheduled ones. Fast: meant to be asked before accepting data from a unit.",
        parameters=[HARDWARE_ID_PARAMETER],
        responses={200: UnitDetailSerializer, **errors(404)},
    ),
)
class UnitViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = UnitSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = UnitApiFilterSet
    pagination_class = Cursor
    lookup_field = "hardware_id"
    lookup_value_regex = "[^/]+"
    queryset = Unit.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return with_cover(units_visible_to(self.request.user)).select_related("owner")

    def retrieve(self, request, *args, **kwargs):
        hardware_id = normalize_hardware_id(self.kwargs["hardware_id"])
        unit = units_visible_to(request.user).select_related("owner").filter(hardware_id=hardware_id).first()
        if unit is None:
            raise NotFound(_("No such unit in your part of the network."))
        return Response(UnitDetailSerializer(unit_cover(unit)).data)


#: Accept headers the JSON renderer answers without negotiation (wrk and most HTTP clients send
#: none, or */*). Anything else goes through DRF's content negotiation.
_JSON_ACCEPTS = {None, "*/*", "application/json"}
#: What DRF adds to the retrieve's answer.
_RETRIEVE_HEADERS = {"Vary": "Accept", "Allow": "GET, HEAD, OPTIONS"}


@functools.cache
def _api_retrieve():
    """The router's own view of `unit-detail` (UnitViewSet.retrieve)."""
    from .urls import urlpatterns

    return next(pattern.callback for pattern in urlpatterns if pattern.name == "unit-detail")


@csrf_exempt  # as DRF's views are: a POST here gets the API's 405, not Django's CSRF page
def unit_status_view(request, hardware_id):
    """The unit-status call (`UnitViewSet.retrieve`) as a tracking server makes it, answered
    from the cover cache (`units.cover_cache`) without the framework's per-request work
    (routing through every API route, request wrapping, negotiation, serializers) and, when
    warm, without a query: this call decides whether a unit's data is accepted and comes in at
    the rate the units report. Mounted ahead of the API's routes (`cms.api_urls`); the
    viewset's route stays for everything else, and for the OpenAPI schema.

    Only a plain `GET` with a token and a JSON (or no) Accept header is answered here; anything
    else -- no token or a bad one, the browser's session, another method, a unit the caller
    cannot see, a cache failure -- is handed to the viewset, so every refusal keeps the API's
    shape."""
    if request.method == "GET" and not request.GET and request.META.get("HTTP_ACCEPT") in _JSON_ACCEPTS:
        parts = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(parts) == 2 and parts[0].lower() == "token":
            wanted = normalize_hardware_id(hardware_id)
            try:
                # Longer than any stored id, or odd characters: no such unit; the viewset's 404.
                body = unit_status(parts[1], wanted) if len(wanted) <= 64 and wanted.isprintable() else None
            except Exception:  # the cache is unreachable (or a bug): the API's own path answers
                logger.exception("unit status from the cache failed; answering from the database")
                body = None
            if body is not None:
                return HttpResponse(body, content_type="application/json", headers=_RETRIEVE_HEADERS)
    return _api_retrieve()(request, hardware_id=hardware_id)
