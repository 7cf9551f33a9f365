"""Audit entries for redemption attempts refused before `codes.services.code_redeem` runs: the
rate limit tripped, the check step found a refusal, or a confirmation was tampered with or
too old. `code_redeem` records its own refusals; together every refused attempt is one
`redeem_refused` entry with the client address (issue 5).

Nothing here changes a code or a unit: it only appends to the audit log, in its own transaction.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.models import Action, Event
from audit.services import event_build, events_write
from cms.actors import ANONYMOUS


def redeem_refusal_record(
    *,
    reason: str,
    actor=ANONYMOUS,
    client_address: str | None = None,
    code=None,
    unit=None,
    details: dict | None = None,
    now: datetime | None = None,
) -> Event:
    """One `redeem_refused` entry. `reason` is the stable refusal code (`rate_limited`,
    `code_mistyped`, `confirmation_tampered`...); never pass the typed code or hardware id in
    `details`: the code and unit rows, when identified, say which ones."""
    with transaction.atomic():
        return events_write(
            [
                event_build(
                    action=Action.REDEEM_REFUSED,
                    actor=actor,
                    occurred_at=now or timezone.now(),
                    code=code,
                    unit=unit,
                    client_address=client_address,
                    details={"reason": reason, **(details or {})},
                )
            ]
        )[0]
