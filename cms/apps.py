from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Accounts and users")

    def ready(self):
        from .hotcache import connect_receivers

        connect_receivers()
