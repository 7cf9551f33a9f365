"""Show times in the signed-in user's account time zone."""

import zoneinfo

from django.utils import timezone


class AccountTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        account = getattr(getattr(request, "user", None), "account", None)
        if account is not None:
            timezone.activate(zoneinfo.ZoneInfo(account.time_zone))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
