"""Rate limits of code redemption: the policy in one place, shared by the public page and the API.

Counted per client address and per hardware id, in fixed windows kept in the rate-limit cache
(`RATELIMIT_USE_CACHE`: Redis in production). The cache keys are hashes, so neither the address
nor the hardware id is stored in clear. Rates come from settings (`KEYLINE_REDEEM_RATE_ADDRESS`,
`KEYLINE_REDEEM_RATE_HARDWARE_ID`, "count/period" such as "20/15m"); `RATELIMIT_ENABLE = False`
turns every limit off; `RATELIMIT_FAIL_OPEN` says what to do when the cache cannot count.

Two ways of counting, with the same windows (django-ratelimit's: fixed, each key's window
starting at its own offset within the period, so windows do not all end at once):

- **On Redis, both limits in one round trip** (`_count_on_redis`): one small Lua script, an INCR
  and an EXPIREAT per limit (one command to send and parse; a pipeline of the four cost the client
  a third more). django-ratelimit's `get_usage` takes an ADD and an INCR per limit (three
  or four round trips for the two), and on the API's redemption, the hottest write, that was a
  tenth of the request's instructions (callgrind: 0.88 M of 9.2 M) besides the round trips
  (docs/BENCHMARKS-notes.md, seventh round).
- **On any other cache** (the embedded set-up's memory cache), django-ratelimit's core
  `get_usage`, which needs only Django's cache API.

The answer says how long to wait: `Limited.retry_after` seconds (the end of the current window),
`Limited.minutes` for people ("try again in N minutes").
"""

import functools
import hashlib
import ipaddress
import logging
import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import EXPIRATION_FUDGE, get_usage
from redis.commands.core import Script

from units.models import normalize_hardware_id

logger = logging.getLogger(__name__)

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


def _limited(scope: str, usage: dict | None) -> Limited | None:
    if usage is None or not usage["should_limit"]:
        return None
    # time_left is -1 when the cache could not be read: fail closed for a minute.
    return Limited(scope=scope, retry_after=max(usage["time_left"], 60 if usage["time_left"] < 0 else 1))


@dataclass(frozen=True)
class _Limit:
    scope: str  # ADDRESS or HARDWARE_ID
    group: str
    rate: str  # "count/period"
    value: str  # what is counted: the (masked) address or the hardware id


@functools.cache
def _parse_rate(rate: str) -> tuple[int, int]:
    """"20/15m" -> (20, 900), as django-ratelimit reads it."""
    count, _, period = rate.partition("/")
    multiplier = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[-1]]
    return int(count), int(period[:-1] or 1) * multiplier


def _window_end(value: str, period: int, now: int) -> int:
    """django-ratelimit's fixed window for this value: it ends at an offset within the period
    that depends on the value, so not every key's window ends at the same second."""
    if period == 1:
        return now
    end = now - (now % period) + (zlib.crc32(value.encode()) % period)
    return end + period if end < now else end


def _masked_address(request) -> str:
    """The client address counted, masked as django-ratelimit masks it (an IPv6 client usually
    holds a whole /64)."""
    address = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address: counted as it is
    mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64) if ip.version == 6 else getattr(settings, "RATELIMIT_IPV4_MASK", 32)
    if mask == ip.max_prefixlen:
        return str(ip)
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)


def _redis_client(cache):
    """The raw Redis client behind a django-redis cache, or None for any other backend."""
    client = getattr(cache, "client", None)
    return client.get_client(write=True) if hasattr(client, "get_client") else None


#: KEYS: the counters; ARGV[1]: "1" to count this attempt, "0" to only look; ARGV[1 + i]: when
#: counter i's window ends (Unix seconds, fudge included). An absolute expiry: every attempt sets
#: the same one, so no counter outlives its window. Answers the counts, in order.
_COUNT_SCRIPT = Script(None, b"""
local counts = {}
for i, key in ipairs(KEYS) do
  if ARGV[1] == '1' then
    counts[i] = redis.call('INCR', key)
    redis.call('EXPIREAT', key, ARGV[i + 1])
  else
    counts[i] = tonumber(redis.call('GET', key) or '0')
  end
end
return counts
""")


def _count_on_redis(cache, redis, limits: list[_Limit], *, increment: bool) -> list[dict | None]:
    """Every limit's usage, in one round trip (see the module docstring)."""
    now = int(time.time())
    prefix = getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:")
    keys, expiries, windows = [], [], []
    for limit in limits:
        allowed, period = _parse_rate(limit.rate)
        window_end = _window_end(limit.value, period, now)
        digest = hashlib.sha256(f"{limit.rate}:{limit.value}".encode()).hexdigest()[:32]
        keys.append(cache.make_key(f"{prefix}{limit.group}:{window_end}:{digest}"))
        expiries.append(window_end + EXPIRATION_FUDGE)
        windows.append((allowed, window_end))
    try:
        counts = _COUNT_SCRIPT(keys=keys, args=["1" if increment else "0", *expiries], client=redis)
    except Exception:  # the cache cannot count: as django-ratelimit, fail closed unless told otherwise
        logger.warning("rate-limit counters unreachable", exc_info=True)
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return [None] * len(limits)
        return [{"count": 0, "limit": 0, "should_limit": True, "time_left": -1}] * len(limits)
    return [
        {"count": count, "limit": allowed, "should_limit": count > allowed, "time_left": window_end - now}
        for (allowed, window_end), count in zip(windows, counts, strict=True)
    ]


def _count_with_library(request, limits: list[_Limit], *, increment: bool) -> list[dict | None]:
    return [
        get_usage(
            request, group=limit.group, key=lambda _group, _request, value=limit.value: value, rate=limit.rate,
            method=get_usage.ALL, increment=increment,
        )
        for limit in limits
    ]


def redeem_attempt(request, *, hardware_id: str | None = None, increment: bool = True) -> Limited | None:
    """Count one redemption attempt from this request (for the given hardware id, if any) and
    say whether it goes over a limit. When several limits trip, the longest wait is returned.
    With `increment=False` only looks."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    limits = [_Limit(ADDRESS, GROUP_ADDRESS, settings.KEYLINE_REDEEM_RATE_ADDRESS, _masked_address(request))]
    if normalized := normalize_hardware_id(hardware_id or ""):
        limits.append(_Limit(HARDWARE_ID, GROUP_HARDWARE_ID, settings.KEYLINE_REDEEM_RATE_HARDWARE_ID, normalized))
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if (redis := _redis_client(cache)) is not None:
        usages = _count_on_redis(cache, redis, limits, increment=increment)
    else:
        usages = _count_with_library(request, limits, increment=increment)
    found = [
        limited for limit, usage in zip(limits, usages, strict=True) if (limited := _limited(limit.scope, usage))
    ]
    if not found:
        return None
    return max(found, key=lambda limited: limited.retry_after)
