"""The audit log: append-only, one row per change of a code or a unit's state (invariant 5).

It is also the activation-code report. Rows are written by `audit.services` inside the same
transaction as the change they describe, and never updated or deleted: the model refuses it and,
on PostgreSQL, so does the database (a trigger, see migration 0002).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    pass


class Action(models.TextChoices):
    GENERATED = "generated", _("Generated")
    SHARED = "shared", _("Shared")
    RECALLED = "recalled", _("Recalled")
    ATTACHED = "attached", _("Attached")
    SCHEDULED = "scheduled", _("Scheduled")
    STARTED = "started", _("Started")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    ARCHIVED = "archived", _("Archived")
    REDEEMED = "redeemed", _("Redeemed")
    REDEEM_REFUSED = "redeem_refused", _("Redemption refused")
    UNIT_ACTIVATED = "unit_activated", _("Unit activated")
    UNIT_DEACTIVATED = "unit_deactivated", _("Unit deactivated")
    NOTICE_SENT = "notice_sent", _("Notice sent")
    CODE_SENT = "code_sent", _("Code sent by e-mail")
    # A code e-mailed to someone is reserved for that address until redeemed or cancelled.
    RESERVED = "reserved", _("Reserved for a recipient")
    RESERVATION_CANCELLED = "reservation_cancelled", _("Reservation cancelled")
    ACCOUNT_CREATED = "account_created", _("Account created")
    ACCOUNT_RENAMED = "account_renamed", _("Account renamed")
    ACCOUNT_MOVED = "account_moved", _("Account moved")
    ACCOUNT_CHANGED = "account_changed", _("Account settings changed")
    ACCOUNT_DISABLED = "account_disabled", _("Account disabled")
    ACCOUNT_ENABLED = "account_enabled", _("Account enabled")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User details changed")
    USER_ROLE_CHANGED = "user_role_changed", _("User role changed")
    USER_PASSWORD_SET = "user_password_set", _("Password set")
    USER_DISABLED = "user_disabled", _("User disabled")
    USER_ENABLED = "user_enabled", _("User enabled")
    INVITATION_SENT = "invitation_sent", _("Invitation sent")
    INVITATION_USED = "invitation_used", _("Invitation used")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    NOTICE_CREATED = "notice_created", _("Notice created")
    NOTICE_CHANGED = "notice_changed", _("Notice changed")
    NOTICE_DELETED = "notice_deleted", _("Notice deleted")
    SIGNED_IN = "signed_in", _("Signed in")
    # One entry per lock-out, never one per failed try: strangers cannot grow the log.
    LOCKED_OUT = "locked_out", _("Locked out after failed sign-ins")


def reference(to, verbose_name, *, related_name="+", **options) -> models.ForeignKey:
    """A reference from an entry to what it names: by id, without a database constraint (ADR 8:
    the entries are written in the transaction that locked those rows; PROTECT still keeps
    anything with history from being deleted through the application). `db_index=False` where
    one of the (column, time) indexes below leads with the column."""
    return models.ForeignKey(
        to, on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name=related_name,
        verbose_name=verbose_name, **options,
    )


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events are never updated")

    def bulk_update(self, objs, fields, batch_size=None):
        # Refuse before Django's own bulk_update opens its atomic block, so the caller's
        # transaction is not left broken.
        raise AuditLogIsAppendOnly("audit events are never updated")

    def _update(self, values):
        raise AuditLogIsAppendOnly("audit events are never updated")

    def delete(self):
        raise AuditLogIsAppendOnly("audit events are never deleted")

    _raw_delete = delete


class Event(models.Model):
    # When it happened by the clock (a code's period ended at its expiry, whenever a job noticed),
    # and when the entry was written.
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    # Null on entries written before the write time was kept.
    recorded_at = models.DateTimeField(_("written"), null=True, blank=True, default=timezone.now)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # Who: a user, or nobody (the system, or an anonymous visitor of the redemption page:
    # actor_label tells which).
    actor = reference(settings.AUTH_USER_MODEL, _("actor"), db_index=False)
    actor_label = models.CharField(_("actor"), max_length=150)
    actor_account = reference("cms.Account", _("actor's account"))
    # The account whose part of the tree the event belongs to (the code's holder after the
    # change, or the unit's owner); the report is scoped on it and on from_account.
    account = reference("cms.Account", _("account"), db_index=False)
    from_account = reference("cms.Account", _("from"), db_index=False)
    to_account = reference("cms.Account", _("to"))
    code = reference("codes.Code", _("code"), related_name="events", db_index=False)
    unit = reference("units.Unit", _("unit"), related_name="events", db_index=False)
    batch = reference("codes.Batch", _("batch"), related_name="events")
    activated_at = models.DateTimeField(_("activation"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    period_days = models.PositiveSmallIntegerField(_("period (days)"), null=True, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["account", "occurred_at"], name="event_account_time"),
            models.Index(fields=["from_account", "occurred_at"], name="event_from_time"),
            models.Index(fields=["code", "occurred_at"], name="event_code_time"),
            models.Index(fields=["unit", "occurred_at"], name="event_unit_time"),
            models.Index(fields=["action", "occurred_at"], name="event_action_time"),
            models.Index(fields=["actor", "occurred_at"], name="event_actor_time"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events are never deleted")
