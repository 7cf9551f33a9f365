"""/api/: the REST API (v1), its OpenAPI schema and docs (self-hosted Swagger UI and Redoc)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cms.api.views import ApiNotFoundView
from units.api.views import unit_status_view

app_name = "api"

urlpatterns = [
    # The unit-status call first: it comes at the rate units report, and resolving it through
    # every API route cost as much as answering it. It hands anything else to the router's
    # `unit-detail` (same URL), which also describes it in the schema.
    path("v1/units/<str:hardware_id>/", unit_status_view, name="unit-status"),
    path("v1/", include("cms.api.urls")),
    path("v1/", include("codes.api.urls")),
    path("v1/", include("units.api.urls")),
    path("v1/", include("audit.api.urls")),
    re_path(r"^v1/", ApiNotFoundView.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
]
