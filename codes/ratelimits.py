"""Rate limits of code redemption: the policy in one place, asked by the public page and (through
`codes.api.throttles.RedeemThrottle`) by the API, so both count against the same counters.

Every attempt counts once per client address and once per hardware id, at the rates
`KEYLINE_REDEEM_RATE_ADDRESS` and `KEYLINE_REDEEM_RATE_HARDWARE_ID` ("count/period", e.g. "20/15m").
django-ratelimit does the counting: fixed windows in the `RATELIMIT_USE_CACHE` cache under hashed
keys, the address masked by `RATELIMIT_IPV4_MASK` / `RATELIMIT_IPV6_MASK`, `RATELIMIT_ENABLE` to turn
the limits off, and a refusal when the cache cannot count (`RATELIMIT_FAIL_OPEN` off).
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from cms.web.addresses import client_address
from units.models import normalize_hardware_id

__all__ = ["ADDRESS", "HARDWARE_ID", "Limited", "client_address", "redeem_attempt"]

ADDRESS = "address"
HARDWARE_ID = "hardware_id"


@dataclass(frozen=True)
class Limited:
    """A refused attempt: which limit tripped and how long until it resets."""

    scope: str  # ADDRESS or HARDWARE_ID
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def redeem_attempt(request, *, hardware_id: str | None = None, increment: bool = True) -> Limited | None:
    """Count one redemption attempt from this request (for the given hardware id, if any) and
    say whether it goes over a limit; when both trip, the longer wait. `increment=False` only looks."""
    limits = [(ADDRESS, "ip", settings.KEYLINE_REDEEM_RATE_ADDRESS)]
    if normalized := normalize_hardware_id(hardware_id or ""):
        limits.append((HARDWARE_ID, lambda _group, _request: normalized, settings.KEYLINE_REDEEM_RATE_HARDWARE_ID))
    found = []
    for scope, key, rate in limits:
        usage = get_usage(
            request, group=f"keyline.redeem.{scope}", key=key, rate=rate, method=get_usage.ALL, increment=increment
        )
        if usage is not None and usage["should_limit"]:
            # time_left is -1 when the cache could not count: the attempt is refused for a minute.
            found.append(Limited(scope=scope, retry_after=max(1, usage["time_left"]) if usage["time_left"] >= 0 else 60))
    return max(found, key=lambda limited: limited.retry_after, default=None)
