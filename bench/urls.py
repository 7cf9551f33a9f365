"""Routes `make bench` mounts beside the product (KEYLINE_BENCH_ROUTES)."""

from django.urls import path

from .views import bare_json

urlpatterns = [path("bare/", bare_json, name="bench_bare")]
