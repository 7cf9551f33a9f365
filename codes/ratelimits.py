"""Rate limits of code redemption: the policy in one place, shared by the public page and the API.

Counted per client address and per hardware id, in fixed windows kept in the default cache
(django-redis in production) by django-ratelimit's core `get_usage`. The cache keys are hashes,
so neither the address nor the hardware id is stored in clear. Rates come from settings
(`KEYLINE_REDEEM_RATE_ADDRESS`, `KEYLINE_REDEEM_RATE_HARDWARE_ID`, "count/period" such as
"20/15m"); `RATELIMIT_ENABLE = False` turns every limit off.

The answer says how long to wait: `Limited.retry_after` seconds (the end of the current window),
`Limited.minutes` for people ("try again in N minutes").
"""

import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from units.models import normalize_hardware_id

ADDRESS = "address"
HARDWARE_ID = "hardware_id"

GROUP_ADDRESS = "keyline.redeem.address"
GROUP_HARDWARE_ID = "keyline.redeem.hardware_id"


@dataclass(frozen=True)
class Limited:
    """A refused attempt: which limit tripped and how long until it resets."""

    scope: str  # ADDRESS or HARDWARE_ID
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def client_address(request) -> str | None:
    """The client's IP address as the audit log stores it, or None when it is not one."""
    value = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _usage(request, *, group: str, rate: str, key, increment: bool) -> dict | None:
    return get_usage(request, group=group, key=key, rate=rate, method=get_usage.ALL, increment=increment)


def _limited(scope: str, usage: dict | None) -> Limited | None:
    if usage is None or not usage["should_limit"]:
        return None
    # time_left is -1 when the cache could not be read: fail closed for a minute.
    return Limited(scope=scope, retry_after=max(usage["time_left"], 60 if usage["time_left"] < 0 else 1))


def redeem_attempt(request, *, hardware_id: str | None = None, increment: bool = True) -> Limited | None:
    """Count one redemption attempt from this request (for the given hardware id, if any) and
    say whether it goes over a limit. When several limits trip, the longest wait is returned.
    With `increment=False` only looks."""
    found: list[Limited] = []
    usage = _usage(
        request, group=GROUP_ADDRESS, rate=settings.KEYLINE_REDEEM_RATE_ADDRESS, key="ip", increment=increment
    )
    if (limited := _limited(ADDRESS, usage)) is not None:
        found.append(limited)
    normalized = normalize_hardware_id(hardware_id or "")
    if normalized:
        usage = _usage(
            request,
            group=GROUP_HARDWARE_ID,
            rate=settings.KEYLINE_REDEEM_RATE_HARDWARE_ID,
            key=lambda _group, _request: normalized,
            increment=increment,
        )
        if (limited := _limited(HARDWARE_ID, usage)) is not None:
            found.append(limited)
    if not found:
        return None
    return max(found, key=lambda limited: limited.retry_after)
