"""Times in Django's templates as the window writes them (`cms.web.tables.minute` and `day`):
`{% load window_times %}{{ code.expires_at|minute|default:"—" }}`."""

from django import template

from cms.web import tables

register = template.Library()
register.filter("minute", tables.minute)
register.filter("day", tables.day)
