"""Accounts (the caller's subtree) and what every API view shares."""

import datetime

from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.functions import Length, Substr
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from cms.models import Account
from cms.selectors import accounts_visible_to

from .errors import errors
from .filtersets import AccountFilterSet
from .pagination import PathCursor
from .serializers import AccountSerializer


class ApiViewMixin:
    # Times in and out of the API are UTC, whatever the account's time zone. (A comment, not a
    # docstring: drf-spectacular would publish a docstring as every operation's description.)

    def initial(self, request, *args, **kwargs):
        timezone.activate(datetime.UTC)
        super().initial(request, *args, **kwargs)


def with_parent(queryset):
    """Annotate `parent_id` from the materialised path (one subquery, no query per row)."""
    parent = Account.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Account.steplen)
    ).values("pk")[:1]
    return queryset.annotate(parent_id=Subquery(parent, output_field=IntegerField()))


@extend_schema_view(
    list=extend_schema(summary="List the accounts of your subtree", responses={200: AccountSerializer, **errors()}),
    retrieve=extend_schema(summary="One account of your subtree", responses={200: AccountSerializer, **errors(404)}),
)
class AccountViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Your account and every account below it, in tree order."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    pagination_class = PathCursor
    queryset = Account.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return with_parent(accounts_visible_to(self.request.user))


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    """Any other path under /api/v1/: a 404 in the API's error shape."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def handle(self, *args, **kwargs):
        raise NotFound()

    get = post = put = patch = delete = head = options = handle
