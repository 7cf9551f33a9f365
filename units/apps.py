from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("Units")

    def ready(self):
        from cms.signals import account_updated

        account_updated.connect(_owner_renamed, dispatch_uid="units.status_answers")


def _owner_renamed(account, before, **_kwargs):
    """The unit-status answers name each unit's owner."""
    from .models import Unit
    from .status_cache import status_forget

    if account.name != before["name"]:
        units = Unit.objects.filter(owner=account).values_list("owner__path", "hardware_id")
        status_forget(units.iterator())
