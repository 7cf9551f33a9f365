"""Invitation e-mails: a link to choose a first password. The link carries Django's password
reset token, so it works once (it changes when the password is set) and expires after
PASSWORD_RESET_TIMEOUT."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _


def invitation_link(user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:invitation", kwargs={"uidb64": uidb64, "token": token})
    return settings.SITE_URL.rstrip("/") + path


def invitation_send(*, user, invited_by) -> None:
    # No inviter: a platform operator's command (`manage.py provider_create`).
    inviter = (invited_by.get_full_name() or invited_by.get_username()) if invited_by else _("The Keyline operator")
    context = {
        "user": user, "invited_by": invited_by, "inviter": inviter, "link": invitation_link(user),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
