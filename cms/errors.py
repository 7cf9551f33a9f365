"""The one error type the service layer raises when it refuses something.

`code` is a stable machine-readable reason (the API returns it as is); `message` is translated
text for people. A bulk refusal carries one `Refusal` per refused row: all-or-nothing services
raise only after checking every row, so the list is complete.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Refusal:
    item: str  # what was refused, as the user knows it (a code's text, a hardware id, a line)
    reason: str  # translated, for people
    code: str = "refused"  # stable, for machines


@dataclass
class DomainError(Exception):
    message: str
    code: str = "refused"
    refusals: list[Refusal] = field(default_factory=list)

    def __post_init__(self):
        super().__init__(self.message)

    def __str__(self):
        return self.message

    @classmethod
    def for_refusals(cls, refusals: list[Refusal], total: int) -> "DomainError":
        if len(refusals) == 1 and total == 1:
            only = refusals[0]
            return cls(only.reason, code=only.code, refusals=refusals)
        message = ngettext(
            "%(refused)d of %(total)d row was refused; nothing was changed.",
            "%(refused)d of %(total)d rows were refused; nothing was changed.",
            total,
        ) % {"refused": len(refusals), "total": total}
        return cls(message, code="bulk_refused", refusals=refusals)


@dataclass
class RateLimited(DomainError):
    """Refused by a rate limit, before anything was done: the same request may succeed after
    `retry_after` seconds (the API's Retry-After)."""

    code: str = "rate_limited"
    retry_after: int = 60


class NotFound(DomainError):
    """Outside the actor's part of the tree, or not there at all: the two look the same."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("Not found."), code="not_found")


class PermissionDenied(DomainError):
    def __init__(self, message: str | None = None):
        super().__init__(message or _("You are not allowed to do this."), code="permission_denied")
