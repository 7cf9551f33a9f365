"""The API's side of the redemption rate limits: a DRF throttle that asks `codes.ratelimits`, so the
API and the public page share one policy and one set of counters."""

from rest_framework.throttling import BaseThrottle

from codes.ratelimits import redeem_attempt

from .serializers import RedeemSerializer


class RedeemThrottle(BaseThrottle):
    """Counts each well-formed redemption request; a malformed one is refused by validation (400)
    and costs nothing, as it tells the caller nothing about codes."""

    limited = None

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        serializer = RedeemSerializer(data=request.data)
        if not serializer.is_valid():
            return True
        self.limited = redeem_attempt(request, hardware_id=serializer.validated_data["unit"])
        return self.limited is None

    def wait(self) -> int | None:
        return self.limited.retry_after if self.limited is not None else None
