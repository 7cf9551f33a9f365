"""Sending codes to end customers by e-mail (issue 5).

`codes_send_by_email` is the service: it checks that the actor may see and hand out the codes,
writes one `code_sent` audit entry per code (who sent which code to which address) and, once
that is committed, sends the Celery task that renders and sends the mails
(`codes.mail_tasks.codes_send_mail_task`). It changes no code.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_build, events_write
from cms.actors import is_person
from cms.errors import DomainError, PermissionDenied, Refusal

from .models import Code, CodeState
from .selectors import code_state, codes_visible_to

#: States in which a code can still be redeemed, so sending it makes sense.
SENDABLE_STATES = (CodeState.AVAILABLE, CodeState.RELEASED)
MESSAGE_MAX_LENGTH = 2000


def _language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def _validated(*, recipient: str, message: str, language: str) -> tuple[str, str]:
    problems = []
    recipient = (recipient or "").strip()
    try:
        validate_email(recipient)
    except ValidationError:
        problems.append(Refusal("recipient", _("Enter a valid e-mail address."), "validation_error"))
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        problems.append(
            Refusal(
                "message",
                _("The message can have at most %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH},
                "validation_error",
            )
        )
    if "\x00" in message:
        problems.append(Refusal("message", _("The message contains characters that cannot be sent."), "validation_error"))
    if language not in _language_codes():
        problems.append(Refusal("language", _("Choose one of the offered languages."), "validation_error"))
    if problems:
        raise DomainError(_("Nothing was sent: please correct the errors."), code="validation_error", refusals=problems)
    return recipient, message


def codes_send_by_email(
    *,
    codes: Iterable[Code | int],
    actor,
    recipient: str,
    message: str = "",
    language: str = "en",
    one_mail_per_code: bool = True,
    now: datetime | None = None,
) -> list[Code]:
    """E-mail codes the actor can see (held by its account or below) to one address: one mail
    per code, or one mail listing them all. All-or-nothing: when any code is refused (not
    visible, or no longer redeemable) nothing is recorded or sent. Returns the codes sent."""
    now = now or timezone.now()
    if not is_person(actor) or getattr(actor, "account", None) is None or not actor.is_active:
        raise PermissionDenied()
    if not actor.account.is_active:
        raise PermissionDenied(_("Your account is disabled."))
    if not actor.can_write:
        raise PermissionDenied(_("Your role can only view."))
    recipient, message = _validated(recipient=recipient, message=message, language=language)
    ids = list(dict.fromkeys(c if isinstance(c, int) else c.pk for c in codes))
    if not ids:
        raise DomainError(_("Select at least one code."), code="validation_error")
    if len(ids) > settings.KEYLINE_MAIL_MAX_CODES:
        raise DomainError(
            _("At most %(max)d codes can be sent at once.") % {"max": settings.KEYLINE_MAIL_MAX_CODES},
            code="validation_error",
        )
    with transaction.atomic():
        visible = {c.pk: c for c in codes_visible_to(actor).filter(pk__in=ids).order_by("pk")}
        refusals = []
        for pk in ids:
            code = visible.get(pk)
            if code is None:
                refusals.append(Refusal(f"#{pk}", _("No such code in your part of the network."), "not_found"))
            elif code_state(code, now) not in SENDABLE_STATES:
                refusals.append(
                    Refusal(
                        code.display_text,
                        _("This code is %(state)s: it can no longer be redeemed.")
                        % {"state": CodeState(code_state(code, now)).label.lower()},
                        "invalid_state",
                    )
                )
        if refusals:
            raise DomainError.for_refusals(refusals, len(ids))
        sent = [visible[pk] for pk in ids]
        events_write(
            [
                event_build(
                    action=Action.CODE_SENT,
                    actor=actor,
                    occurred_at=now,
                    code=code,
                    details={"recipient": recipient, "language": language, "one_mail_per_code": one_mail_per_code},
                )
                for code in sent
            ]
        )
        from .mail_tasks import codes_send_mail_task

        task_kwargs = {
            "code_ids": [c.pk for c in sent],
            "recipient": recipient,
            "message": message,
            "language": language,
            "one_mail_per_code": one_mail_per_code,
            "sender_account_id": actor.account_id,
        }
        transaction.on_commit(lambda: codes_send_mail_task.delay(**task_kwargs))
    return sent
