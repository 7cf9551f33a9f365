"""The environment of Django's Jinja2 backend, for the window's tables (ADR 32): the helpers their
templates use, each Django's own tag or filter where Django has one."""

from django.template import defaultfilters, defaulttags
from django.utils import timezone
from django.utils.translation import gettext
from jinja2 import Environment

from .tables import WINDOW_TIME


def querystring(request, **changes) -> str:
    """Django's `{% querystring %}`: the request's query string with `changes` made."""
    return defaulttags.querystring(None, request.GET, **changes)


def minute(value) -> str:
    """A time to the minute ("2026-12-07 16:05") in the active time zone, as the window shows it."""
    return timezone.localtime(value).strftime(WINDOW_TIME) if value else ""


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(querystring=querystring, _=gettext)
    env.filters.update(minute=minute, floatformat=defaultfilters.floatformat)
    return env
