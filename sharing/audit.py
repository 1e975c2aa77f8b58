"""The sharing app's words in the audit trail: its targets, its actions and how a sharing's fields read in its
timeline. Registered with the audit app in SharingConfig.ready()."""

import datetime as dt

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.timeline import readable_value
from audit.vocabulary import AuditField, audit_vocabulary_register
from fleet.audit import WORKSPACES_FIELD

from .lifecycle import SharingStatus


class AuditTarget(models.TextChoices):
    SHARING = "sharing", gettext_lazy("Sharing")
    RECEIVED_MACHINE = "received_machine", gettext_lazy("Received machine")


class AuditAction(models.TextChoices):
    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Updated")
    STOPPED = "stopped", gettext_lazy("Stopped")
    DELETED = "deleted", gettext_lazy("Deleted")
    STATUS_CHANGED = "status_changed", gettext_lazy("Status changed")
    BENEFICIARY_ATTACHED = "beneficiary_attached", gettext_lazy("Beneficiary attached")
    RENAMED = "renamed", gettext_lazy("Renamed")
    WORKSPACES_CHANGED = "workspaces_changed", gettext_lazy("Workspaces changed")
    EXTENSION_REQUESTED = "extension_requested", gettext_lazy("Later end asked for")
    EXTENSION_APPROVED = "extension_approved", gettext_lazy("Later end approved")
    EXTENSION_DECLINED = "extension_declined", gettext_lazy("Later end declined")


def _moment(value) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _status(value) -> str:
    try:
        return str(SharingStatus(value).label)
    except ValueError:
        return str(value)


def _switch(value) -> str:
    return _("on") if value else _("off")


def _organisation(value) -> str:
    return value.get("name", "") if isinstance(value, dict) else readable_value(value)


def _machines(value) -> str:
    if not isinstance(value, list):
        return readable_value(value)
    return ngettext("%(count)d machine", "%(count)d machines", len(value)) % {"count": len(value)}


SHARING_FIELDS = {
    "machines": AuditField(gettext_lazy("Machines"), _machines),
    "recipient_email": AuditField(gettext_lazy("Recipient")),
    "recipient_organisation_name": AuditField(gettext_lazy("Recipient's organisation")),
    "beneficiary": AuditField(gettext_lazy("Beneficiary"), _organisation),
    "start_at": AuditField(gettext_lazy("Start"), _moment),
    "end_at": AuditField(gettext_lazy("End"), _moment),
    "stopped_at": AuditField(gettext_lazy("Stopped at"), _moment),
    "reference": AuditField(gettext_lazy("Reference")),
    "properties": AuditField(gettext_lazy("Properties")),
    "data_packs": AuditField(gettext_lazy("Data packs")),
    "notification_enabled": AuditField(gettext_lazy("Notifications"), _switch),
    "status": AuditField(gettext_lazy("Status"), _status),
    "message": AuditField(gettext_lazy("Message")),
}


def register() -> None:
    audit_vocabulary_register(
        targets=AuditTarget,
        actions=AuditAction,
        fields={AuditTarget.SHARING: SHARING_FIELDS, AuditTarget.RECEIVED_MACHINE: {"workspaces": WORKSPACES_FIELD}},
    )
