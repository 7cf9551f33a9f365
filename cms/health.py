"""Health endpoints for a load balancer (docs/DEPLOY.md, ADR 42).

`/healthz`: the process is up. It answers without touching the database, the cache or the broker,
so a restart of PostgreSQL or Redis does not make every machine look dead at once.
`/readyz`: this machine can serve: the database, the broker and the cache answer. 200 with the
result of each check, or 503 naming the one that failed, so the balancer stops sending requests.

Both are answered by `HealthEndpointsMiddleware`, first in MIDDLEWARE: a balancer asks by the
machine's address (not in ALLOWED_HOSTS) and over plain HTTP, and sends no cookie; the
middleware behind it (host check, sessions, accounts' time zones, CSRF, sign-in lock-outs) has
nothing to say to it.
"""

import logging

from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse, JsonResponse

from .celery import app as celery_app

logger = logging.getLogger(__name__)


def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain", headers={"Cache-Control": "no-store"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    # No retry: a balancer asks again in a few seconds, and a request must not sleep between tries.
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=0)


def _cache() -> None:
    # Sessions are read from this cache: without it no signed-in page answers.
    caches["default"].get("readyz")


CHECKS = {"database": _database, "broker": _broker, "cache": _cache}


def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # whatever the reason, this machine cannot serve
            logger.warning("readyz: %s unreachable: %s", name, error)
            results[name] = "unreachable"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if ready else 503, headers={"Cache-Control": "no-store"})


ENDPOINTS = {"/healthz": healthz, "/readyz": readyz}


class HealthEndpointsMiddleware:
    """Answers the health endpoints before any other middleware runs; passes everything else on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        return self.get_response(request)
