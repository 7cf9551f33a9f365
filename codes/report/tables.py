"""The Report's table: one row per audit event."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.models import Action, Event
from cms.models import Account, User
from cms.web.tables import BaseTable, LocalDateTimeColumn

ACTION_STYLES = {
    Action.GENERATED: "secondary",
    Action.SHARED: "info",
    Action.RECALLED: "info",
    Action.ATTACHED: "primary",
    Action.SCHEDULED: "primary",
    Action.STARTED: "success",
    Action.RELEASED: "warning",
    Action.EXPIRED: "dark",
    Action.REVOKED: "danger",
    Action.ARCHIVED: "light",
    Action.REDEEMED: "success",
    Action.REDEEM_REFUSED: "danger",
    Action.UNIT_ACTIVATED: "success",
    Action.UNIT_DEACTIVATED: "secondary",
    Action.NOTICE_SENT: "light",
    Action.CODE_SENT: "light",
    Action.ACCOUNT_CREATED: "secondary",
    Action.ACCOUNT_RENAMED: "secondary",
    Action.ACCOUNT_MOVED: "info",
    Action.ACCOUNT_CHANGED: "secondary",
    Action.ACCOUNT_DISABLED: "danger",
    Action.ACCOUNT_ENABLED: "success",
    Action.USER_CREATED: "secondary",
    Action.USER_CHANGED: "secondary",
    Action.USER_ROLE_CHANGED: "warning",
    Action.USER_PASSWORD_SET: "warning",
    Action.USER_DISABLED: "danger",
    Action.USER_ENABLED: "success",
    Action.INVITATION_SENT: "light",
    Action.INVITATION_USED: "light",
    Action.TOKEN_CREATED: "secondary",
    Action.TOKEN_REVOKED: "warning",
    Action.NOTICE_CREATED: "light",
    Action.NOTICE_CHANGED: "light",
    Action.NOTICE_DELETED: "light",
    Action.SIGNED_IN: "light",
    Action.LOCKED_OUT: "danger",
}


#: Names of the detail keys the services write, for people; other keys show as they are.
DETAIL_LABELS = {
    "reason": _("Reason"),
    "recipient": _("Recipient"),
    "language": _("Language"),
    "limit": _("Limit"),
    "rate": _("Rate"),
    "scheduled": _("Scheduled"),
    "moved_from": _("Moved from"),
    "use_by_passed": _("Use-by date passed"),
    "was_scheduled": _("Was scheduled"),
    "planned_start": _("Planned start"),
    "one_mail_per_code": _("One e-mail per code"),
    # Accounts, users, tokens and notices: a changed field holds [old, new].
    "user": _("User"),
    "name": _("Name"),
    "kind": _("Kind"),
    "parent": _("Below"),
    "time_zone": _("Time zone"),
    "with_account": _("Together with"),
    "role": _("Role"),
    "email": _("E-mail"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "token": _("Token"),
    "notice": _("Notice"),
    "text": _("Text"),
    "days_before": _("Days before expiry"),
    "show_repeatedly": _("Show repeatedly"),
}

#: Detail values stored as a choice's value, shown as its label.
DETAIL_CHOICES = {"role": dict(User.Role.choices), "kind": dict(Account.Kind.choices)}


def _detail_value(key: str, value) -> str:
    if isinstance(value, list) and len(value) == 2:  # a change: old → new
        return " → ".join(_detail_value(key, part) or "—" for part in value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and key in DETAIL_CHOICES:
        return str(DETAIL_CHOICES[key].get(value, value))
    return str(value)


def details_pairs(details: dict) -> list[tuple[str, str]]:
    """An event's details as (name, value) pairs, for people."""
    return [(str(DETAIL_LABELS.get(key, key)), _detail_value(key, value)) for key, value in sorted(details.items())]


def details_text(details: dict) -> str:
    """An event's details as "name: value" pairs, for people and for the export."""
    return "; ".join(f"{name}: {value}" for name, value in details_pairs(details))


class EventTable(BaseTable):
    occurred_at = LocalDateTimeColumn(verbose_name=_("Time"), linkify=("report:detail", {"pk": tables.A("pk")}))
    action = tables.Column(verbose_name=_("Action"))
    actor_label = tables.Column(verbose_name=_("Actor"))
    account = tables.Column(verbose_name=_("Account"), order_by=("account__name",))
    from_account = tables.Column(verbose_name=_("From"), order_by=("from_account__name",))
    to_account = tables.Column(verbose_name=_("To"), order_by=("to_account__name",))
    code = tables.Column(
        verbose_name=_("Code"), linkify=("codes:detail", {"pk": tables.A("code_id")}),
        order_by=("code__text",), attrs={"td": {"class": "code-text text-nowrap"}},
    )
    unit = tables.Column(
        verbose_name=_("Unit"), linkify=("units:detail", {"pk": tables.A("unit_id")}), order_by=("unit__name",)
    )
    period_days = tables.Column(verbose_name=_("Period (days)"))
    activated_at = LocalDateTimeColumn(verbose_name=_("Activation"))
    expires_at = LocalDateTimeColumn(verbose_name=_("Expires"))
    client_address = tables.Column(verbose_name=_("Client address"))
    details = tables.Column(verbose_name=_("Details"), orderable=False)

    class Meta(BaseTable.Meta):
        model = Event
        fields = (
            "occurred_at", "action", "actor_label", "account", "from_account", "to_account", "code", "unit",
            "period_days", "activated_at", "expires_at", "client_address", "details",
        )
        exclude = ("pk",)
        order_by = ("-occurred_at",)
        attrs = {**BaseTable.Meta.attrs, "data-testid": "report-table"}

    def render_action(self, record):
        return format_html(
            '<span class="badge text-bg-{}" data-action="{}">{}</span>',
            ACTION_STYLES.get(record.action, "light"), record.action, record.get_action_display(),
        )

    def render_actor_label(self, record):
        if record.actor_account_id is not None:
            return format_html('{} <span class="small text-body-secondary">· {}</span>', record.actor_label, record.actor_account.name)
        return record.actor_label

    def render_details(self, value):
        if not value:
            return "—"
        return format_html(
            '<span class="small text-body-secondary">{}</span>', details_text(value)
        )

    def render_code(self, record):
        return record.code.display_text

    def render_unit(self, record):
        return record.unit.name
