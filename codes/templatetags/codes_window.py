"""What a code's cells show, for the Codes window's table, a batch's page and a code's page."""

from datetime import timedelta

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from cms.web.jinja import minute
from codes.models import CodeState
from codes.rules import reservation_of, whole_days

register = template.Library()

#: Days left at or under which the window warns.
SOON_DAYS = 7
WARN_DAYS = 30


@register.filter
def state_badge(state: str) -> str:
    """A state as the window's coloured badge."""
    return format_html(
        '<span class="badge state-badge state-{}" data-state="{}">{}</span>', state, state, CodeState(state).label
    )


def days_left_shown(state: str, remaining: timedelta | None) -> int | None:
    """Whole days until the code ends, as the window, its export and a code's page show them, from
    the time left (None before it has started); none once it is over."""
    return None if state in (CodeState.EXPIRED, CodeState.REVOKED) else whole_days(remaining)


def days_left_cell(code, now) -> str:
    left = days_left_shown(code.state, code.expires_at - now if code.expires_at else None)
    if left is None:
        return "—"
    style = "days-soon" if left <= SOON_DAYS else "days-warn" if left <= WARN_DAYS else ""
    return format_html('<span class="{}">{}</span>', style, left)


def reservation_cell(code, now) -> str:
    """Under a reserved code's state: to whom and when it was sent; nothing for any other code."""
    reservation = reservation_of(code, now, code.state)
    if reservation is None:
        return ""
    return format_html(
        '<div class="small text-body-secondary reservation" data-testid="reservation">{}</div>',
        _("sent to %(recipient)s on %(date)s") % {"recipient": reservation.recipient, "date": minute(reservation.since)},
    )
