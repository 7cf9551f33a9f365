"""Where a request comes from, as the audit log and the rate limits know it."""

import ipaddress


def ip_address_or_none(value: str | None) -> str | None:
    """An IP address as the audit log stores it, or None when `value` is not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, or None when the request does not carry one."""
    return ip_address_or_none(request.META.get("REMOTE_ADDR"))
