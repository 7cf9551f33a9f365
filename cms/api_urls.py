"""/api/: the REST API (v1), its OpenAPI schema and docs."""

app_name = "api"

urlpatterns = []
