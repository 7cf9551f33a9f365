from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Accounts and users")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from .models import ApiToken

        user_locked_out.connect(_record_lock_out, dispatch_uid="cms.audit.locked_out")

        # Saves outside the services too (the shell, `manage.py changepassword`): a changed user or token is
        # looked up afresh on its next API call.
        for sender in (get_user_model(), ApiToken):
            post_save.connect(_forget_tokens, sender=sender, dispatch_uid=f"cms.tokens.save.{sender.__name__}")
            post_delete.connect(_forget_tokens, sender=sender, dispatch_uid=f"cms.tokens.delete.{sender.__name__}")


def _forget_tokens(sender, instance, **_kwargs):
    from .authentication import tokens_forget
    from .models import ApiToken

    tokens_forget(instance if isinstance(instance, ApiToken) else ApiToken.objects.filter(user=instance))


def _record_lock_out(sender, request, username, ip_address, **_kwargs):
    """django-axes says so on the try that locks and on every try while locked; the service
    writes one entry per lock-out."""
    from axes.helpers import get_cool_off

    from .services import user_locked_out
    from .web.addresses import ip_address_or_none

    if username:
        user_locked_out(
            username=username, client_address=ip_address_or_none(ip_address), lock_lasts=get_cool_off(request)
        )
