"""Batches and activation codes (see DOMAIN.md for the lifecycle).

A code's state is derived from its fields and the clock (`codes.selectors.code_state`,
`codes.selectors.state_q`). `Code.status` records the state the service layer last wrote; the
expiry job uses it to find the transitions the clock has made since, and database constraints use
it as a backstop. Nothing but the service layer writes either.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import text as code_text


class CodeState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


#: States in which a code sits on a unit.
ON_UNIT_STATES = (CodeState.SCHEDULED, CodeState.RUNNING)
#: States that never change again.
FINAL_STATES = (CodeState.EXPIRED, CodeState.REVOKED)


class Batch(models.Model):
    class Status(models.TextChoices):
        GENERATING = "generating", _("Generating")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    provider = models.ForeignKey("cms.Account", on_delete=models.PROTECT, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    generated_count = models.PositiveIntegerField(_("generated"), default=0)
    period_days = models.PositiveSmallIntegerField(
        _("period (days)"), validators=[MinValueValidator(1), MaxValueValidator(3660)]
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    use_by = models.DateField(_("use by"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.GENERATING)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When its fill last counted a chunk (or beat last resumed it): a batch still generating that
    # has not moved for a while lost its fill with a killed worker (ADR 39).
    progressed_at = models.DateTimeField(_("last progress"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"#{self.pk} · {self.quantity} × {self.period_days} d"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.generated_count / self.quantity) if self.quantity else 100


class Code(models.Model):
    # Collation "C" on PostgreSQL (ADR 3; migration 0009, not in Django's model state): the unique
    # index also serves prefix search and the sort. An AlterField of this column brings back the
    # varchar_pattern_ops index Django adds: drop it again in the same migration.
    text = models.CharField(_("code"), max_length=code_text.LENGTH, unique=True)
    provider = models.ForeignKey("cms.Account", on_delete=models.PROTECT, related_name="+")
    # db_index=False on batch, holder and unit: a composite index below leads with each column and
    # answers its lookups and foreign-key checks; one entry less per status change (ADR 2).
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="codes", db_index=False)
    # Copied from the batch when generated (they never change), so the window filters and the
    # state rules read one table.
    period_days = models.PositiveSmallIntegerField(_("period (days)"))
    use_by = models.DateField(_("use by"), null=True, blank=True)
    # The instant the use-by day ends in the provider's time zone (`codes.use_by`): an unused code
    # lapses when the clock reaches it. Set with use_by, moved when the provider's zone changes.
    usable_until = models.DateTimeField(_("usable until"), null=True, blank=True, editable=False)

    holder = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, related_name="held_codes", verbose_name=_("holder"), db_index=False
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="codes", verbose_name=_("unit"),
        db_index=False,
    )
    # For a running, released or expired code: when it started (set once, never changed).
    # For a scheduled code: when it will start, i.e. the end of the cover before it.
    activated_at = models.DateTimeField(_("activation"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # A code e-mailed to someone is kept for that address (`codes.rules.reservation_of`): in force
    # while the code is on no unit and not over; a redemption or a cancellation clears both.
    reserved_for = models.EmailField(_("reserved for"), blank=True, default="", editable=False)
    reserved_at = models.DateTimeField(_("reserved"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("recorded state"), max_length=16, choices=CodeState.choices, default=CodeState.AVAILABLE, editable=False
    )

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        ordering = ["-pk"]
        constraints = [
            # Invariant 1's backstop: one running code per unit, and no two codes in the same
            # position of a unit's chain.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="running"), name="code_one_running_per_unit"
            ),
            models.UniqueConstraint(
                fields=["unit", "activated_at"],
                condition=Q(status__in=["running", "scheduled"]),
                name="code_one_position_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(activated_at__isnull=True, expires_at__isnull=True)
                | Q(activated_at__isnull=False, expires_at__isnull=False, expires_at__gt=models.F("activated_at")),
                name="code_expiry_follows_activation",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(unit__isnull=True, activated_at__isnull=True),
                name="code_revoked_never_started",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["running", "scheduled"]) | Q(unit__isnull=False, activated_at__isnull=False),
                name="code_on_unit_has_position",
            ),
            models.CheckConstraint(
                condition=Q(use_by__isnull=True, usable_until__isnull=True)
                | Q(use_by__isnull=False, usable_until__isnull=False),
                name="code_use_by_has_deadline",
            ),
            # The reservation's backstop: an address with its date, and never on a code on a unit.
            models.CheckConstraint(
                condition=Q(reserved_for="", reserved_at__isnull=True)
                | (~Q(reserved_for="") & Q(reserved_at__isnull=False, unit__isnull=True)),
                name="code_reservation_on_no_unit",
            ),
        ]
        indexes = [
            models.Index(fields=["holder", "status"], name="code_holder_status"),
            models.Index(fields=["unit", "activated_at"], name="code_unit_position"),
            models.Index(fields=["batch", "status"], name="code_batch_status"),
            models.Index(fields=["expires_at"], name="code_expires_at"),
            models.Index(fields=["activated_at"], name="code_activated_at"),
            # No index on period_days: a few periods split the codes in large shares and the period
            # filter walks an expiry index in order, so it would only cost every write (ADR 2).
            # The expiry job's two scans touch only live rows.
            models.Index(
                fields=["expires_at"], condition=Q(status__in=["running", "released"]), name="code_live_expiry"
            ),
            models.Index(fields=["activated_at"], condition=Q(status="scheduled"), name="code_scheduled_start"),
            # Unused codes whose use-by date lapses: without it the minute job scans every
            # available code.
            models.Index(
                fields=["usable_until"],
                condition=Q(status="available", usable_until__isnull=False),
                name="code_usable_until_lapse",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(status="expired", archived_at__isnull=True), name="code_to_archive"
            ),
            # The Codes window's working view (every state but expired and revoked) in its default
            # order: without it PostgreSQL walks the expired third of the table in expiry order
            # before the first row it can show. `codes.selectors.states_q` adds the matching
            # `status IN (...)` to the derived-state conditions so the planner can use it.
            models.Index(
                fields=["provider", "expires_at", "id"],
                condition=Q(status__in=["available", "scheduled", "running", "released"]),
                name="code_live_by_expiry",
            ),
            # A reseller's "running" and "scheduled" views read the branch's holders' ranges in
            # expiry order (ADR 2). A code enters it only when applied.
            models.Index(
                fields=["holder", "expires_at"],
                condition=Q(status__in=["running", "scheduled"]),
                name="code_holder_on_unit_expiry",
            ),
            # A reseller's batch (and period) choices: one probe per batch and account of the
            # branch ("does this branch hold a code of this batch?"), not a scan of the batch.
            models.Index(fields=["holder", "batch"], name="code_holder_batch"),
        ]

    def __str__(self):
        return self.display_text

    @property
    def display_text(self) -> str:
        return code_text.display(self.text)


class ExpiryNotice(models.Model):
    """A reminder an account sets up: shown to its users after sign-in when some of the codes
    they can see expire within `days_before` days."""

    account = models.ForeignKey("cms.Account", on_delete=models.CASCADE, related_name="expiry_notices")
    name = models.CharField(_("name"), max_length=100)
    text = models.TextField(_("text"))
    days_before = models.PositiveSmallIntegerField(
        _("days before expiry"), validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    show_repeatedly = models.BooleanField(
        _("show repeatedly"), default=True, help_text=_("Off: each user sees it once.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("expiry notice")
        verbose_name_plural = _("expiry notices")
        ordering = ["days_before", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(days_before__gte=1, days_before__lte=99), name="notice_days_1_99"),
        ]

    def __str__(self):
        return self.name


class NoticeMailed(models.Model):
    """A notice e-mailed to a user on one day (the user's account's local day): the daily job
    sends each notice at most once a day to each user, and a show-once notice once in all."""

    notice = models.ForeignKey(ExpiryNotice, on_delete=models.CASCADE, related_name="mailed_to")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user", "day"], name="notice_mailed_once_a_day")]

    def __str__(self):
        return f"{self.notice} mailed to {self.user_id} on {self.day}"


class NoticeSeen(models.Model):
    """Which user has seen a show-once notice."""

    notice = models.ForeignKey(ExpiryNotice, on_delete=models.CASCADE, related_name="seen_by")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="notice_seen_once")]

    def __str__(self):
        return f"{self.notice} seen by {self.user_id}"
