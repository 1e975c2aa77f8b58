from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Sharing")

    def ready(self):
        # The layers below ask this one through the hooks they expose, never by importing it (DESIGN §5). The module
        # reads models, so it is loaded once they are.
        from . import audit, hooks, messages, reminders

        audit.register()
        hooks.register()
        messages.register()
        reminders.register()
