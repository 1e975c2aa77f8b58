from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AempConfig(AppConfig):
    name = "aemp"
    verbose_name = _("ISO 15143-3 feed")
