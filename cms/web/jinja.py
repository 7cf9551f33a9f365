"""The environment of Django's Jinja2 backend, for the window's tables (ADR 32): the helpers their
templates use, each Django's own tag or filter where Django has one."""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import defaultfilters, defaulttags
from django.utils.translation import gettext
from jinja2 import Environment

from .tables import day, minute


def querystring(request, **changes) -> str:
    """Django's `{% querystring %}`: the request's query string with `changes` made."""
    return defaulttags.querystring(None, request.GET, **changes)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(querystring=querystring, _=gettext)
    # intcomma: a count with the language's thousands separator (never an id or a year).
    env.filters.update(minute=minute, day=day, intcomma=intcomma, floatformat=defaultfilters.floatformat)
    return env
