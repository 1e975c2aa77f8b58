from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelematicsConfig(AppConfig):
    name = "telematics"
    verbose_name = _("Telematics sources")

    def ready(self):
        from fleet.data_origins import register_data_origins

        from . import audit
        from .origins import machine_data_origins

        audit.register()
        register_data_origins(machine_data_origins)
