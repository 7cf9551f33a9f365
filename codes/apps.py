from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    name = "codes"
    verbose_name = _("Codes")

    def ready(self):
        from cms.signals import account_updated

        account_updated.connect(_provider_zone_moves_deadlines, dispatch_uid="codes.use_by_deadlines")


def _provider_zone_moves_deadlines(account, before, **_kwargs):
    """A use-by date is a day in the provider's time zone: its unused codes' deadlines move with it."""
    from .use_by import usable_until_follow_zone

    if account.is_provider and account.time_zone != before["time_zone"]:
        usable_until_follow_zone(provider_id=account.pk, time_zone=account.time_zone)
