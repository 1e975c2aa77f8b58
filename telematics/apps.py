from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelematicsConfig(AppConfig):
    name = "telematics"
    verbose_name = _("Telematics sources")

    def ready(self):
        from . import audit

        audit.register()
