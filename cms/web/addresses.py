"""Where a request comes from, as the audit log, the rate limits and the sign-in lock-outs know it.

Behind `KEYLINE_TRUSTED_PROXIES` proxies (REST_FRAMEWORK's NUM_PROXIES, set from it) the client is
the address the outermost of them saw: the n-th from the right of X-Forwarded-For, as each proxy
appends the address it was reached from. Addresses further left are whatever the client sent.
With none, REMOTE_ADDR: a forged header changes nothing.
"""

import ipaddress

from rest_framework.throttling import BaseThrottle

# DRF's throttles already pick the address by NUM_PROXIES; the audit log, django-ratelimit and
# django-axes ask the same code, so no two of them can disagree about who a client is.
_throttle = BaseThrottle()


def ip_address_or_none(value: str | None) -> str | None:
    """An IP address as the audit log stores it, or None when `value` is not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, or None when the request does not carry one."""
    return ip_address_or_none(_throttle.get_ident(request))


def client_address_for_limits(request) -> str:
    """The client's address for django-ratelimit's "ip" key (RATELIMIT_IP_META_KEY), which must have
    one: requests without a readable address share one counter, refused together rather than let
    through."""
    return client_address(request) or "::"
