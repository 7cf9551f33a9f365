"""Tables and filters of the Users page."""

import django_filters
import django_tables2 as tables
from django import forms
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Account, User
from .selectors import accounts_visible_to
from .web.filters import AccountChoiceFilter, FilterForm
from .web.tables import BaseTable, LocalDateTimeColumn


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", help_text=_("Username, name or e-mail"))
    account = AccountChoiceFilter(label=_("Account"), queryset=None, empty_label=_("Any account"))
    role = django_filters.ChoiceFilter(label=_("Role"), choices=User.Role.choices, empty_label=_("Any role"))
    is_active = django_filters.BooleanFilter(
        label=_("Status"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Active")), ("false", _("Disabled"))]),
    )

    class Meta:
        model = User
        fields = ["q", "account", "role", "is_active"]
        form = FilterForm

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["account"].field.queryset = (
            accounts_visible_to(request.user).order_by("path") if request else Account.objects.none()
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(first_name__icontains=value) | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )


class UserTable(BaseTable):
    username = tables.Column(verbose_name=_("Username"))
    full_name = tables.Column(verbose_name=_("Name"), accessor="get_full_name", orderable=False)
    email = tables.Column(verbose_name=_("E-mail"))
    account = tables.Column(verbose_name=_("Account"), accessor="account__name", order_by=("account__path",))
    role = tables.Column(verbose_name=_("Role"))
    is_active = tables.Column(verbose_name=_("Status"))
    last_login = LocalDateTimeColumn(verbose_name=_("Last sign-in"))

    class Meta(BaseTable.Meta):
        model = User
        fields = ("pk", "username", "full_name", "email", "account", "role", "is_active", "last_login")
        order_by = ("account", "username")

    def render_username(self, value, record):
        """A link to the user's page for admins only: nobody else may open it."""
        request = getattr(self, "request", None)
        if request is not None and getattr(request.user, "is_account_admin", False):
            return format_html('<a href="{}">{}</a>', self.object_url("accounts:user_edit", record.pk), value)
        return value

    def render_role(self, record):
        return record.get_role_display()

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', _("Active"))
        return format_html('<span class="badge text-bg-secondary">{}</span>', _("Disabled"))
