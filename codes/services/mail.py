"""What Keyline e-mails: codes sent to an end customer (`codes_send_by_email`, rendered by
`codes_mail_build` in the worker; `codes_reservation_cancel` frees them again), and the daily
expiry-notice mails (`notices_mail_due`).

Sending codes reserves them for the recipient (`codes.rules.reservation_of`, DOMAIN.md): it
records one `reserved` entry per code and hands the mails to the worker once that is committed.
Each mail counts against the sender's and the recipient's hourly limits (`codes.ratelimits`); a
send that would go over either is refused whole, before anything is reserved, recorded or sent.
A notice mail is recorded (`NoticeMailed` and its `notice_sent` entry) in the transaction that
hands it to the e-mail backend: when the backend fails nothing is recorded and the next hourly run
tries again; two runs at once send it once.
Notice mails go out from `KEYLINE_NOTICE_MAIL_HOUR` o'clock in each account's time zone, at most
once a day per notice and user (a show-once notice once in all).
"""

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import Action
from audit.services import event_build, events_write
from cms.actors import SYSTEM, require_writer
from cms.errors import DomainError, RateLimited, Refusal
from cms.models import Account

from .. import ratelimits, rules
from ..models import Code, NoticeMailed
from ..notices import DueNotice, notices_due_for_users, units_losing_cover
from .common import each_code, ids_of
from .locks import lock_codes

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


def _mail_limited(limited: ratelimits.Limited, *, recipient: str, mails: int, one_mail_per_code: bool) -> RateLimited:
    """The refusal of a send that would go over a mail limit, saying what would fit."""
    if limited.limit is None:
        message = _("Nothing was sent: the e-mail limits cannot be checked just now. Try again in a minute.")
        return RateLimited(message, retry_after=limited.retry_after)
    numbers = {"limit": limited.limit, "left": limited.left, "mails": mails, "recipient": recipient}
    if limited.scope == ratelimits.USER:
        said = _("Nothing was sent: one user may send %(limit)d e-mails an hour (%(left)d left now), and this would "
                 "send %(mails)d.") % numbers
    else:
        said = _("Nothing was sent: one address may receive %(limit)d e-mails an hour (%(left)d left now for "
                 "%(recipient)s), and this would send %(mails)d.") % numbers
    if one_mail_per_code and mails > 1 and limited.left >= 1:
        then = _("One e-mail listing all the codes would fit now.")
    else:
        then = ngettext("Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", limited.minutes) % {
            "minutes": limited.minutes
        }
    return RateLimited(f"{said} {then}", retry_after=limited.retry_after)


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
    """E-mail codes the actor can see (held by its account or below) to one address, one mail
    per code or one mail listing them all, and reserve them for that address. All-or-nothing:
    when any code is refused (not visible, no longer redeemable, reserved for another address)
    or the mails would go over the sender's or the recipient's limit, nothing is recorded or
    sent. Returns the codes sent."""
    account = require_writer(actor)
    recipient, message = _validated(recipient=recipient, message=message, language=language)
    ids = list(dict.fromkeys(c if isinstance(c, int) else c.pk for c in codes))
    if not ids:
        raise DomainError(_("Select at least one code."), code="validation_error")
    if len(ids) > settings.KEYLINE_MAIL_MAX_CODES:
        raise DomainError(
            _("At most %(max)d codes can be sent at once.") % {"max": settings.KEYLINE_MAIL_MAX_CODES},
            code="validation_error",
        )
    mails = len(ids) if one_mail_per_code else 1
    limits = {"user_id": actor.pk, "recipient": recipient, "mails": mails}
    if (limited := ratelimits.mail_allowance(**limits)) is not None:
        raise _mail_limited(limited, recipient=recipient, mails=mails, one_mail_per_code=one_mail_per_code)
    with transaction.atomic():
        # Codes outside the sender's branch read as unknown, by id only.
        locked = {pk: code for pk, code in lock_codes(ids).items() if account.contains(code.holder)}
        now = now or timezone.now()  # read once the locks are held (ADR 9)
        sent = each_code(ids, locked, account, lambda code: rules.send_refusal(code, recipient, now))
        # Counted once every code has passed, so a refused send spends nothing; this refuses only
        # when sends at the same moment took the room the look above found.
        if (limited := ratelimits.mail_spend(**limits)) is not None:
            raise _mail_limited(limited, recipient=recipient, mails=mails, one_mail_per_code=one_mail_per_code)
        events, reserving = [], []
        for code in sent:
            # Sent again to the same address: the reservation stands from its first mail.
            resent = rules.reservation_of(code, now) is not None
            if not resent:
                code.reserved_for, code.reserved_at = recipient, now
                reserving.append(code.pk)
            events.append(
                event_build(
                    action=Action.RESERVED, actor=actor, occurred_at=now, code=code, unit_id=code.unit_id,
                    details={
                        "recipient": recipient, "language": language, "one_mail_per_code": one_mail_per_code,
                        **({"resent": True} if resent else {}),
                    },
                )
            )
        Code.objects.filter(pk__in=reserving).update(reserved_for=recipient, reserved_at=now)
        events_write(events)
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


def codes_reservation_cancel(*, codes: Iterable[Code | int], actor, now: datetime | None = None) -> int:
    """Free reserved codes for the staff again: their recipient's mail no longer keeps them. A
    writer of the holder's branch may; each gets a `reservation_cancelled` entry. All or nothing."""
    account = require_writer(actor)
    ids = ids_of(codes)
    if not ids:
        return 0
    with transaction.atomic():
        locked = lock_codes(ids)
        now = now or timezone.now()
        chosen = each_code(ids, locked, account, lambda code: rules.cancel_reservation_refusal(code, now))
        events = [
            event_build(
                action=Action.RESERVATION_CANCELLED, actor=actor, occurred_at=now, code=code, unit_id=code.unit_id,
                details={"recipient": code.reserved_for, "reserved_at": code.reserved_at.isoformat()},
            )
            for code in chosen
        ]
        Code.objects.filter(pk__in=[c.pk for c in chosen]).update(reserved_for="", reserved_at=None)
        for code in chosen:
            code.reserved_for, code.reserved_at = "", None
        events_write(events)
    return len(chosen)


def code_reservation_cancel(*, code: Code | int, actor, now: datetime | None = None) -> int:
    return codes_reservation_cancel(codes=[code], actor=actor, now=now)


def redeem_link(code: Code) -> str:
    """The public redemption page with the code filled in."""
    return f"{settings.SITE_URL.rstrip('/')}{reverse('redeem:redeem')}?{urlencode({'code': code.display_text})}"


def _message(*, codes: list[Code], recipient: str, note: str, sender: Account | None) -> EmailMultiAlternatives:
    context = {
        "codes": [{"code": code, "link": redeem_link(code)} for code in codes],
        "note": note,
        "sender": sender,
        "redeem_page": f"{settings.SITE_URL.rstrip('/')}{reverse('redeem:redeem')}",
    }
    subject = " ".join(render_to_string("email/codes_sent_subject.txt", context).split())
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("email/codes_sent.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    mail.attach_alternative(render_to_string("email/codes_sent.html", context), "text/html")
    return mail


def codes_mail_build(
    *, code_ids: list[int], recipient: str, message: str, language: str, one_mail_per_code: bool,
    sender_account_id: int | None = None,
) -> list[EmailMultiAlternatives]:
    """The messages to send, rendered in `language`."""
    by_pk = Code.objects.in_bulk(code_ids)
    codes = [by_pk[pk] for pk in code_ids if pk in by_pk]
    sender = Account.objects.filter(pk=sender_account_id).first() if sender_account_id else None
    with translation.override(language):
        if one_mail_per_code:
            return [_message(codes=[code], recipient=recipient, note=message, sender=sender) for code in codes]
        return [_message(codes=codes, recipient=recipient, note=message, sender=sender)] if codes else []


@shared_task(name="codes.tasks.codes_send_mail_task")
def codes_send_mail_task(
    *, code_ids: list[int], recipient: str, message: str, language: str, one_mail_per_code: bool,
    sender_account_id: int | None = None,
) -> int:
    """The worker's half of `codes_send_by_email`: render the mails and hand them to the backend."""
    mails = codes_mail_build(
        code_ids=code_ids, recipient=recipient, message=message, language=language,
        one_mail_per_code=one_mail_per_code, sender_account_id=sender_account_id,
    )
    if not mails:
        return 0
    with get_connection() as connection:
        return connection.send_messages(mails) or 0


# --- expiry notices ----------------------------------------------------------------------------


def notices_mail_due(*, now: datetime | None = None) -> int:
    """Send the expiry-notice mails that are due; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    accounts = Account.objects.filter(is_active=True, expiry_notices__isnull=False).distinct().order_by("pk")
    with get_connection() as connection:
        for account in accounts:
            local = timezone.localtime(now, account.zone)
            if local.hour < settings.KEYLINE_NOTICE_MAIL_HOUR:
                continue
            users = list(account.users.filter(is_active=True).exclude(email="").order_by("pk"))
            for user in users:
                user.account = account  # one account query per account, not per user
            # What is due is worked out once for the account (its notices, codes and zone), then
            # each user's seen show-once notices are dropped: three queries per account, not per user.
            due_by_user = notices_due_for_users(users, now)
            for user in users:
                for due in due_by_user[user.pk]:
                    sent += _mail_once(due, user, day=local.date(), now=now, connection=connection)
    return sent


def _mail_once(due: DueNotice, user, *, day, now: datetime, connection) -> int:
    notice = due.notice
    with transaction.atomic():
        if not notice.show_repeatedly and NoticeMailed.objects.filter(notice=notice, user=user).exists():
            return 0
        try:
            with transaction.atomic():
                NoticeMailed.objects.create(notice=notice, user=user, day=day)
        except IntegrityError:  # mailed today already (or the notice was deleted meanwhile)
            return 0
        events_write(
            [
                event_build(
                    action=Action.NOTICE_SENT,
                    actor=SYSTEM,
                    occurred_at=now,
                    account=user.account,
                    details={
                        "notice": notice.name, "notice_id": notice.pk, "days_before": notice.days_before,
                        "recipient": user.email, "user": user.get_username(), "units": due.count,
                    },
                )
            ]
        )
        connection.send_messages([notice_message(due, user)])
    return 1


#: How many units a notice mail names; the link shows them all.
NOTICE_MAIL_UNITS = 50


def notice_message(due: DueNotice, user) -> EmailMessage:
    """The mail of one due notice, in the site's language: the units losing their cover, each with
    the day it ends in the account's time zone."""
    units = units_losing_cover(due, user, limit=NOTICE_MAIL_UNITS)
    for unit in units:
        unit.cover_ends_day = timezone.localtime(unit.cover_ends, user.account.zone).date()
    context = {
        "notice": due.notice,
        "count": due.count,
        "units": units,
        "more": max(0, due.count - len(units)),
        "last_day": due.window.last_day,
        "link": f"{settings.SITE_URL.rstrip('/')}{due.units_url}",
        "account": user.account,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("email/notice_subject.txt", context).split())
        body = render_to_string("email/notice.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
