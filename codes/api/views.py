"""Codes, batches and redemption over the API. Every rule is the service layer's: these views
find what the caller names inside the caller's part of the network, call one service, and
answer with the result."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.errors import errors
from cms.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from cms.api.idempotency import idempotent
from cms.api.views import ApiViewMixin
from cms.errors import DomainError, NotFound, Refusal
from codes import text as code_text
from codes.batch_selectors import batches_visible_to
from codes.models import Batch, Code
from codes.ratelimits import client_address
from codes.selectors import codes_visible_to, with_state
from codes.services import (
    batch_generate,
    code_attach,
    code_redeem,
    code_release,
    code_reservation_cancel,
    code_revoke,
    codes_recall,
    codes_share,
)
from units.models import normalize_hardware_id
from units.selectors import units_visible_to

from .filtersets import BatchFilterSet, CodeApiFilterSet
from .serializers import (
    AttachSerializer,
    BatchCreateSerializer,
    BatchSerializer,
    BulkResultSerializer,
    CodeSerializer,
    RecallSerializer,
    RedeemSerializer,
    RedemptionSerializer,
    RevokeSerializer,
    ShareSerializer,
)
from .throttles import RedeemThrottle

CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The code's text in any typing: case, dashes and spaces do not matter; I and L read as 1, O as 0.",
)


def _mistyped() -> DomainError:
    return DomainError(_("This code looks mistyped: check it and try again."), code="code_mistyped")


def _code_not_found() -> NotFound:
    return NotFound(_("No such code in your part of the network."))


def post_action(
    *, detail: bool, operation_id: str, summary: str, request, answer, description: str | None = None,
    url_path: str | None = None,
):
    """A POST action on codes, idempotent, with its schema (the code in the path when `detail`)."""
    schema = extend_schema(
        operation_id=operation_id, summary=summary, description=description,
        parameters=[CODE_PARAMETER, IDEMPOTENCY_KEY] if detail else [IDEMPOTENCY_KEY],
        request=request, responses={200: answer, **errors(404, 409, 415, 422)},
    )
    return lambda method: schema(action(detail=detail, methods=["post"], url_path=url_path)(idempotent(method)))


def code_for(user, typed: str) -> Code:
    """The code the caller names, inside the caller's part of the network."""
    canonical = code_text.normalize(typed)
    if not code_text.is_well_formed(canonical):
        raise _mistyped()
    code = with_state(codes_visible_to(user)).select_related("holder", "unit").filter(text=canonical).first()
    if code is None:
        raise _code_not_found()
    return code


def codes_for(user, typed_codes: list[str]) -> tuple[list[int], list[Refusal]]:
    """Ids of the codes the caller names, and a refusal for each one that is not theirs."""
    canonical = [code_text.normalize(typed) for typed in typed_codes]
    wanted = [c for c in canonical if code_text.is_well_formed(c)]
    found = dict(codes_visible_to(user).filter(text__in=wanted).values_list("text", "pk"))
    ids, refusals = [], []
    for typed, text in zip(typed_codes, canonical, strict=True):
        if not code_text.is_well_formed(text):
            refusals.append(Refusal(typed, _mistyped().message, "code_mistyped"))
        elif text not in found:
            refusals.append(Refusal(typed, _code_not_found().message, "not_found"))
        else:
            ids.append(found[text])
    return ids, refusals


class _DryRun(Exception):
    pass


def run_bulk(service, typed_codes: list[str], user, **kwargs) -> int:
    """Call a bulk service (all-or-nothing) on the codes the caller names. When some are not
    found, the service still checks the others inside a transaction that is then rolled back,
    so the refusal lists every refused item and nothing changes."""
    ids, refusals = codes_for(user, typed_codes)
    if not refusals:
        return service(codes=ids, actor=user, **kwargs)
    try:
        with transaction.atomic():
            if ids:
                service(codes=ids, actor=user, **kwargs)
            raise _DryRun
    except _DryRun:
        pass
    except DomainError as error:
        if not error.refusals:  # refused as a whole (role, target account): that is the answer
            raise
        refusals += error.refusals
    raise DomainError.for_refusals(refusals, len(typed_codes))


def unit_for(user, hardware_id: str):
    unit = units_visible_to(user).filter(hardware_id=normalize_hardware_id(hardware_id)).first()
    if unit is None:
        raise NotFound(_("No such unit in your part of the network."))
    return unit


@extend_schema_view(
    list=extend_schema(
        summary="List codes",
        description="Codes held by your account or below it. Without a state filter: the working view "
        "(available, scheduled, running, released).",
        responses={200: CodeSerializer, **errors()},
    ),
    retrieve=extend_schema(
        summary="One code", parameters=[CODE_PARAMETER], responses={200: CodeSerializer, **errors(404)}
    ),
)
class CodeViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CodeSerializer
    filterset_class = CodeApiFilterSet
    lookup_field = "text"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[^/]+"
    queryset = Code.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return with_state(codes_visible_to(self.request.user)).select_related("holder", "unit")

    def get_object(self):
        return code_for(self.request.user, self.kwargs["code"])

    def _answer(self, code: Code) -> Response:
        return Response(CodeSerializer(code_for(self.request.user, code.text)).data)

    @post_action(
        detail=True, operation_id="codes_attach", summary="Attach a code to a unit",
        description="Starts now when the unit has no running code; otherwise the code is scheduled to start "
        "exactly when the unit's cover ends.",
        request=AttachSerializer, answer=CodeSerializer,
    )
    def attach(self, request, code=None):
        serializer = AttachSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = self.get_object()
        unit = unit_for(request.user, serializer.validated_data["unit"])
        code_attach(code=found, unit=unit, actor=request.user, client_address=client_address(request))
        return self._answer(found)

    @post_action(
        detail=True, operation_id="codes_release", summary="Release a code from its unit",
        description="A running code keeps its clock (nothing is refunded); a scheduled one becomes available.",
        request=None, answer=CodeSerializer,
    )
    def release(self, request, code=None):
        found = self.get_object()
        code_release(code=found, actor=request.user)
        return self._answer(found)

    @post_action(
        detail=True, operation_id="codes_revoke", summary="Revoke a code that never started (provider admins)",
        request=RevokeSerializer, answer=CodeSerializer,
    )
    def revoke(self, request, code=None):
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = self.get_object()
        code_revoke(code=found, actor=request.user, reason=serializer.validated_data["reason"])
        return self._answer(found)

    @post_action(
        detail=True, operation_id="codes_cancel_reservation", summary="Cancel a code's reservation",
        description="A code sent by e-mail is kept for its recipient: it is not attached, shared, recalled or "
        "revoked, nor chosen automatically, until it is redeemed or its reservation is cancelled. Cancelling "
        "frees it (409 invalid_state when it is not reserved).",
        request=None, answer=CodeSerializer, url_path="cancel-reservation",
    )
    def cancel_reservation(self, request, code=None):
        found = self.get_object()
        code_reservation_cancel(code=found, actor=request.user)
        return self._answer(found)

    @post_action(
        detail=False, operation_id="codes_share", summary="Share codes with an account below their holder",
        description="All or nothing: when any code is refused, nothing changes and the error lists every "
        "refused code.",
        request=ShareSerializer, answer=BulkResultSerializer,
    )
    def share(self, request):
        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        count = run_bulk(codes_share, data["codes"], request.user, to_account=data["account"])
        return Response({"count": count})

    @post_action(
        detail=False, operation_id="codes_recall", summary="Recall codes to your own account",
        description="All or nothing, like share.",
        request=RecallSerializer, answer=BulkResultSerializer,
    )
    def recall(self, request):
        serializer = RecallSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = run_bulk(codes_recall, serializer.validated_data["codes"], request.user)
        return Response({"count": count})


#: The redemption's answer is written by one serializer, made once: `to_representation` keeps no
#: state, and building a ModelSerializer's fields introspects the models on every request.
_redemption = RedemptionSerializer()


class RedeemView(ApiViewMixin, APIView):
    throttle_classes = [RedeemThrottle]

    @extend_schema(
        operation_id="redeem",
        summary="Redeem a code onto one of your own units",
        description="For end customers (and anyone above them). Rate limited per client address and per "
        "hardware id, like the public redemption page.",
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter(
                "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
                description="Seconds until another attempt is allowed.",
            ),
        ],
        request=RedeemSerializer,
        responses={200: RedemptionSerializer, **errors(409, 415, 422, 429)},
    )
    @idempotent
    def post(self, request):
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        code = code_redeem(
            code_text=data["code"], hardware_id=data["unit"], actor=request.user,
            client_address=client_address(request),
        )
        return Response(_redemption.to_representation(code))


class IsProviderAdmin(permissions.BasePermission):
    message = _("Only the provider's admins can do this.")

    def has_permission(self, request, view):
        user, account = request.user, getattr(request.user, "account", None)
        return bool(account is not None and account.is_active and user.is_provider_admin)


@extend_schema_view(
    list=extend_schema(summary="List your batches (provider admins)", responses={200: BatchSerializer, **errors()}),
    retrieve=extend_schema(summary="One batch (provider admins)", responses={200: BatchSerializer, **errors(404)}),
)
class BatchViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = BatchSerializer
    permission_classes = [permissions.IsAuthenticated, IsProviderAdmin]
    filterset_class = BatchFilterSet
    queryset = Batch.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return batches_visible_to(self.request.user).select_related("created_by")

    @extend_schema(
        summary="Generate a batch of codes (provider admins)",
        description="Small batches are generated at once (status ready); large ones in the background "
        "(status generating, generated_count shows progress).",
        parameters=[IDEMPOTENCY_KEY],
        request=BatchCreateSerializer,
        responses={201: BatchSerializer, **errors(415, 422)},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = BatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = batch_generate(actor=request.user, **serializer.validated_data)
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)
