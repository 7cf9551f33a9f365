from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Accounts and users")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from .models import ApiToken

        # Saves outside the services too (the admin site, the shell): a changed user or token is
        # looked up afresh on its next API call.
        for sender in (get_user_model(), ApiToken):
            post_save.connect(_forget_tokens, sender=sender, dispatch_uid=f"cms.tokens.save.{sender.__name__}")
            post_delete.connect(_forget_tokens, sender=sender, dispatch_uid=f"cms.tokens.delete.{sender.__name__}")


def _forget_tokens(sender, instance, **_kwargs):
    from .authentication import tokens_forget
    from .models import ApiToken

    tokens_forget(instance if isinstance(instance, ApiToken) else ApiToken.objects.filter(user=instance))
