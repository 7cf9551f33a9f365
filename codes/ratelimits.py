"""Rate limits of code redemption and of codes sent by e-mail: the policy in one place. The public
page and (through `codes.api.throttles.RedeemThrottle`) the API ask it for redemptions, so both
count against the same counters; the e-mail service asks it for sends.

Every attempt counts once per client address and once per hardware id, at the rates
`KEYLINE_REDEEM_RATE_ADDRESS` and `KEYLINE_REDEEM_RATE_HARDWARE_ID` ("count/period", e.g. "20/15m").
django-ratelimit does the counting: fixed windows in the `RATELIMIT_USE_CACHE` cache under hashed
keys, the address masked by `RATELIMIT_IPV4_MASK` / `RATELIMIT_IPV6_MASK`, `RATELIMIT_ENABLE` to turn
the limits off, and a refusal when the cache cannot count (`RATELIMIT_FAIL_OPEN` off).

An attempt that goes over a limit says so (`Limited.reached`) only when it is the first refused one
of its window: the audit log records that one and no other (ADR 49).

Codes sent by e-mail count per sender and per recipient, one per e-mail, at
`KEYLINE_MAIL_RATE_USER` and `KEYLINE_MAIL_RATE_RECIPIENT` (`mail_allowance`, `mail_spend`; ADR 50).
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from cms.web.addresses import client_address
from units.models import normalize_hardware_id

__all__ = [
    "ADDRESS", "HARDWARE_ID", "RECIPIENT", "USER", "Limited", "client_address", "mail_allowance", "mail_spend",
    "redeem_attempt",
]

ADDRESS = "address"
HARDWARE_ID = "hardware_id"
USER = "user"
RECIPIENT = "recipient"

#: When the cache cannot count, the refusal lasts this long (seconds).
_UNCOUNTED_WAIT = 60


@dataclass(frozen=True)
class Limited:
    """A refused attempt: which limit tripped and how long until it resets."""

    scope: str  # ADDRESS, HARDWARE_ID, USER or RECIPIENT
    retry_after: int  # seconds
    # The limits this very attempt went over first in their window (counted attempts only).
    reached: tuple[str, ...] = ()
    limit: int | None = None  # the scope's count per window; None when the cache could not count
    left: int | None = None  # what the scope still allows in this window; None likewise

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def _usage(request, *, group: str, key, rate: str, increment: bool) -> dict | None:
    """django-ratelimit's count of one limit (None when the limits are switched off)."""
    return get_usage(request, group=group, key=key, rate=rate, method=get_usage.ALL, increment=increment)


def _counted(usage: dict) -> bool:
    """False when the cache could not count: django-ratelimit then reports a limit of 0 and no time."""
    return usage["time_left"] >= 0


def _wait(usage: dict) -> int:
    """Seconds until the limit's window ends."""
    return max(1, usage["time_left"]) if _counted(usage) else _UNCOUNTED_WAIT


def _limited(usages: dict[str, dict | None], *, needed: int = 0, increment: bool) -> Limited | None:
    """The refusal for these counts, or None: a limit trips when it is over (or would be, with
    `needed` more); when several trip, the longer wait."""
    tripped = {
        scope: usage
        for scope, usage in usages.items()
        if usage is not None and (usage["should_limit"] or usage["count"] + needed > usage["limit"])
    }
    if not tripped:
        return None
    scope, usage = max(tripped.items(), key=lambda item: _wait(item[1]))
    reached = tuple(
        name for name, used in tripped.items() if increment and _counted(used) and used["count"] == used["limit"] + 1
    )
    if not _counted(usage):
        return Limited(scope=scope, retry_after=_wait(usage), reached=reached)
    return Limited(
        scope=scope, retry_after=_wait(usage), reached=reached, limit=usage["limit"],
        left=max(0, usage["limit"] - usage["count"]),
    )


def redeem_attempt(request, *, hardware_id: str | None = None, increment: bool = True) -> Limited | None:
    """Count one redemption attempt from this request (for the given hardware id, if any) and
    say whether it goes over a limit; when both trip, the longer wait. `increment=False` only looks."""
    limits = {ADDRESS: ("ip", settings.KEYLINE_REDEEM_RATE_ADDRESS)}
    if normalized := normalize_hardware_id(hardware_id or ""):
        limits[HARDWARE_ID] = (lambda _group, _request: normalized, settings.KEYLINE_REDEEM_RATE_HARDWARE_ID)
    usages = {
        scope: _usage(request, group=f"keyline.redeem.{scope}", key=key, rate=rate, increment=increment)
        for scope, (key, rate) in limits.items()
    }
    return _limited(usages, increment=increment)


def redeem_rate(scope: str) -> str:
    """The rate ("count/period") a redemption limit counts at."""
    return {ADDRESS: settings.KEYLINE_REDEEM_RATE_ADDRESS, HARDWARE_ID: settings.KEYLINE_REDEEM_RATE_HARDWARE_ID}[scope]


def _mail_usages(*, user_id: int, recipient: str, increment: bool) -> dict[str, dict | None]:
    # No request: both keys come from the sender and the address, as the service knows them.
    limits = {
        USER: (str(user_id), settings.KEYLINE_MAIL_RATE_USER),
        RECIPIENT: (recipient.strip().casefold(), settings.KEYLINE_MAIL_RATE_RECIPIENT),
    }
    return {
        scope: _usage(
            None, group=f"keyline.mail.{scope}", key=lambda _group, _request, value=value: value, rate=rate,
            increment=increment,
        )
        for scope, (value, rate) in limits.items()
    }


def mail_allowance(*, user_id: int, recipient: str, mails: int) -> Limited | None:
    """Whether `mails` more e-mails from this user to this address fit in both limits; counts nothing."""
    return _limited(_mail_usages(user_id=user_id, recipient=recipient, increment=False), needed=mails, increment=False)


def mail_spend(*, user_id: int, recipient: str, mails: int) -> Limited | None:
    """Count `mails` e-mails against both limits, one at a time, as django-ratelimit counts; a
    refusal when one of them went over (another send took the room since `mail_allowance`)."""
    for _mail in range(mails):
        usages = _mail_usages(user_id=user_id, recipient=recipient, increment=True)
        if (limited := _limited(usages, increment=True)) is not None:
            return limited
    return None
