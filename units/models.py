"""Units: the tracked objects that codes keep active."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.Model):
    """A tracker. Whether it is active is decided by its codes and the clock (see
    `codes.cover.unit_is_active`); `is_active` caches what the service layer last recorded
    and is written by nothing else.
    """

    # db_index=False: unit_provider_active and the unique (provider, hardware_id) lead with the
    # provider, unit_owner_name with the owner; they answer any lookup on either column (ADR 2).
    provider = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("provider"), db_index=False
    )
    owner = models.ForeignKey(
        "cms.Account", on_delete=models.PROTECT, related_name="units", verbose_name=_("owner"), db_index=False
    )
    name = models.CharField(_("name"), max_length=200)
    hardware_id = models.CharField(_("hardware id"), max_length=64, help_text=_("IMEI or the tracker's unique id"))
    device_type = models.CharField(_("device type"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "hardware_id"], name="unit_hardware_id_unique_per_provider"),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="unit_owner_name"),
            models.Index(fields=["provider", "is_active"], name="unit_provider_active"),
            # Hardware id alone (equality and prefix): the unique constraint leads with the
            # provider, so a reseller's status call and the Codes window's Unit filter, which
            # do not name the provider, would otherwise read every unit.
            models.Index(fields=["hardware_id"], name="unit_hardware_id", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.name} ({self.hardware_id})"


def normalize_hardware_id(value: str) -> str:
    """Hardware ids are compared without surrounding spaces and case: IMEIs are digits, other
    trackers use hex ids that people type in either case."""
    return "".join((value or "").split()).upper()
