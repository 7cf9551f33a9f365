from django import template

from cms.filter_form import render_filter_form

register = template.Library()


@register.filter
def filter_form(form):
    """`{{ filter.form|filter_form }}`: the filter column's fields (see `cms.filter_form`)."""
    return render_filter_form(form)
