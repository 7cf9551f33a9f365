"""The daily e-mail of expiry notices (DOMAIN.md, background work: "Daily: ... send expiry notices").

Each active user with an e-mail address receives the notices of their account that the dashboard
would show them (`codes.notices.notices_due_for_users`, the dashboard's `notices_due_for` for
several users at once: the same codes, count and link), one mail per
notice, at most once a day; a show-once notice is mailed once in all, and not to a user who has
already seen it after sign-in. Mails go out from the account's local morning: the job runs every
hour and sends from `KEYLINE_NOTICE_MAIL_HOUR` o'clock in the account's time zone.

Each mail is recorded (`NoticeMailed`, with its `notice_sent` audit entry) in the transaction that
hands it to the e-mail backend. When the backend fails, nothing is recorded and the next run tries
again; two runs at once send each mail once (the second waits on the first's row, then finds it).
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from audit.models import Action
from audit.services import event_build, events_write
from cms.actors import SYSTEM
from cms.models import Account

from .models import NoticeMailed
from .notices import DueNotice, notices_due_for_users


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
                        "recipient": user.email, "user": user.get_username(), "codes": due.count,
                    },
                )
            ]
        )
        connection.send_messages([notice_message(due, user)])
    return 1


def notice_message(due: DueNotice, user) -> EmailMessage:
    """The mail of one due notice, in the site's language."""
    context = {
        "notice": due.notice,
        "count": due.count,
        "last_day": due.window.last_day,
        "link": f"{settings.SITE_URL.rstrip('/')}{due.codes_url}",
        "account": user.account,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("email/notice_subject.txt", context).split())
        body = render_to_string("email/notice.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
