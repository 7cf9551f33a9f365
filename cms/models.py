"""The account tree (provider -> resellers -> customers) and the users who sign in to it."""

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Account(MP_Node):
    """A node of one provider's tree.

    django-treebeard keeps a materialised path, so "this account and everything below it" is a
    single prefix query on an indexed column, whatever the depth.
    """

    class Kind(models.TextChoices):
        PROVIDER = "provider", _("Provider")
        RESELLER = "reseller", _("Reseller")
        CUSTOMER = "customer", _("Customer")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Users of a disabled account cannot sign in.")
    )
    #: The account whose disabling disabled this one: itself, or an account above it (disabling
    #: an account disables its whole branch; enabling it again enables what it disabled, not the
    #: accounts below that were disabled on their own). Empty while active.
    disabled_by = models.ForeignKey(
        "self", verbose_name=_("disabled by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # Prefix (LIKE 'path%') lookups on PostgreSQL need the pattern operator class
            # unless the database collation is "C".
            models.Index(fields=["path"], name="account_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.name

    # --- the tree, as the rest of the product asks about it --------------------------------
    @property
    def provider_path(self) -> str:
        return self.path[: self.steplen]

    def get_provider(self) -> "Account":
        if self.depth == 1:
            return self
        return Account.objects.get(path=self.provider_path)

    def subtree_q(self, prefix: str = "") -> Q:
        """Q matching this account and everything below it, on a relation named by prefix."""
        return Q(**{f"{prefix}path__startswith": self.path})

    def contains(self, other: "Account") -> bool:
        """True when other is this account or lies below it."""
        return other.path.startswith(self.path)

    def strictly_contains(self, other: "Account") -> bool:
        return other.path.startswith(self.path) and other.path != self.path

    @property
    def is_provider(self) -> bool:
        return self.kind == self.Kind.PROVIDER

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class User(AbstractUser):
    """A login belonging to exactly one account, with one role there.

    Platform superusers (Django admin only) may have no account; every product page and service
    requires one.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        OPERATOR = "operator", _("Operator")
        VIEWER = "viewer", _("Viewer")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def can_write(self) -> bool:
        return self.role in (self.Role.ADMIN, self.Role.OPERATOR)

    @property
    def is_account_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_provider_user(self) -> bool:
        """A user of a provider: sees its batches, their unit price (the provider's cost) and notes.
        The accounts below see codes, periods and use-by dates, never those."""
        return self.account is not None and self.account.is_provider

    @property
    def is_provider_admin(self) -> bool:
        """An admin of a provider: creates batches, revokes codes."""
        return self.is_account_admin and self.is_provider_user


class ApiToken(models.Model):
    """A personal API token. Only a hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        key = secrets.token_hex(20)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], key_hash=cls.hash_key(key))
        return token, key
