"""/api/: the REST API (v1), its OpenAPI schema and docs (self-hosted Swagger UI and Redoc)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cms.api.views import ApiNotFoundView

app_name = "api"

urlpatterns = [
    path("v1/", include("cms.api.urls")),
    path("v1/", include("codes.api.urls")),
    path("v1/", include("units.api.urls")),
    path("v1/", include("codes.api.event_urls")),
    re_path(r"^v1/", ApiNotFoundView.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
]
