"""The API's side of the redemption rate limits: a DRF throttle that asks `codes.ratelimits`, so the
API and the public page share one policy and one set of counters."""

from rest_framework.throttling import BaseThrottle

from codes.ratelimits import client_address, redeem_attempt
from codes.services.redemption import redeem_limit_record

from .serializers import RedeemSerializer


class RedeemThrottle(BaseThrottle):
    """Counts each well-formed redemption request; a malformed one is refused by validation (400)
    and costs nothing, as it tells the caller nothing about codes. The first refusal of a limit's
    window is recorded, as on the page; the view, and so every lookup, is never reached."""

    limited = None

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        serializer = RedeemSerializer(data=request.data)
        if not serializer.is_valid():
            return True
        self.limited = redeem_attempt(request, hardware_id=serializer.validated_data["unit"])
        if self.limited is None:
            return True
        redeem_limit_record(limited=self.limited, actor=request.user, client_address=client_address(request))
        return False

    def wait(self) -> int | None:
        return self.limited.retry_after if self.limited is not None else None
