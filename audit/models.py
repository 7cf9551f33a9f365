"""The audit log: append-only, one row per change of a code or a unit's state (invariant 5).

It is also the activation-code report. Rows are written by `audit.services` inside the same
transaction as the change they describe, and never updated or deleted: the model refuses it and,
on PostgreSQL, so does the database (a trigger, see migration 0002).
"""

from django.conf import settings
from django.db import models
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
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # Who: a user, or nobody (the system, or an anonymous visitor of the redemption page:
    # actor_label tells which).
    # db_index=False on actor, account, from_account, code and unit: each leads one of the
    # (column, occurred_at) indexes below, which answer any lookup on the column alone (migration
    # 0004). The log takes thousands of rows a second from the jobs: one index less, one write less.
    #
    # db_constraint=False on every reference (migration 0005), as django-simple-history does for
    # its historical records: the entries are written only by `audit.services`, inside the
    # transaction that changed (and locked) the rows they name, mostly copied from those rows by
    # INSERT ... SELECT. The database's foreign-key checks ran once per reference per entry at
    # commit (a lock on each code, unit and account named): twice the cost of writing the entry
    # itself, about 40% of generating a batch and 20% of the expiry job. PROTECT still stands,
    # enforced by Django's deletion collector: a code, unit, account, user or batch with history
    # cannot be deleted through the application (tests/audit/test_references.py).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="+",
        verbose_name=_("actor"), db_index=False,
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    actor_account = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="+",
        verbose_name=_("actor's account"),
    )
    # The account whose part of the tree the event belongs to (the code's holder after the
    # change, or the unit's owner); the report is scoped on it and on from_account.
    account = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="+", verbose_name=_("account"),
        db_index=False,
    )
    from_account = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="+", verbose_name=_("from"),
        db_index=False,
    )
    to_account = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="+", verbose_name=_("to")
    )
    code = models.ForeignKey(
        "codes.Code", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="events", verbose_name=_("code"),
        db_index=False,
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="events", verbose_name=_("unit"),
        db_index=False,
    )
    batch = models.ForeignKey(
        "codes.Batch", on_delete=models.PROTECT, db_constraint=False, null=True, blank=True, related_name="events", verbose_name=_("batch")
    )
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
