"""The Celery task that renders and sends the e-mails of `codes.mailing.codes_send_by_email`.

Thin: it reads the codes, renders plain text and HTML in the chosen language and hands the
messages to Django's configured e-mail backend (EMAIL_URL, SMTP settings, or files under
var/mail in the embedded set-up). It decides nothing: the service has checked and recorded.
"""

from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from cms.models import Account

from .models import Code


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


@shared_task
def codes_send_mail_task(
    *, code_ids: list[int], recipient: str, message: str, language: str, one_mail_per_code: bool,
    sender_account_id: int | None = None,
) -> int:
    mails = codes_mail_build(
        code_ids=code_ids, recipient=recipient, message=message, language=language,
        one_mail_per_code=one_mail_per_code, sender_account_id=sender_account_id,
    )
    if not mails:
        return 0
    with get_connection() as connection:
        return connection.send_messages(mails) or 0
