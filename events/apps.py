from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        # sharing announces its changes through the hook it exposes (sharing/changes.py); it never imports this app.
        from sharing.changes import changes_announced

        from . import audit, services, webhooks

        audit.register()
        webhooks.register()
        changes_announced.register(services.events_record)
