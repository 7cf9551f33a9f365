"""The framework's floor for `make bench`: a view that returns a fixed JSON body, mounted only
when KEYLINE_BENCH_ROUTES is on, so the unit-status call can be compared with it on the same
server."""

from django.http import JsonResponse

_BODY = {"hardware_id": "860000000000000", "state": "active", "covered_until": "2027-01-01T00:00:00Z"}


def bare_json(request):
    return JsonResponse(_BODY)
