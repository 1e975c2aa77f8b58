"""The fleet app's words in the audit trail: a machine's workspaces changed; a workspace created, renamed or
deleted. Registered with the audit app in FleetConfig.ready()."""

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.vocabulary import AuditField, audit_vocabulary_register

from .models import Workspace


class AuditTarget(models.TextChoices):
    MACHINE = "machine", gettext_lazy("Machine")
    WORKSPACE = "workspace", gettext_lazy("Workspace")


class AuditAction(models.TextChoices):
    WORKSPACES_CHANGED = "workspaces_changed", gettext_lazy("Workspaces changed")
    CREATED = "created", gettext_lazy("Created")
    RENAMED = "renamed", gettext_lazy("Renamed")
    DELETED = "deleted", gettext_lazy("Deleted")


def _workspace_names(organisation, ids: set[str]) -> dict[str, str]:
    return {
        str(pk): name
        for pk, name in Workspace.objects.filter(organisation=organisation, pk__in=ids).values_list("pk", "name")
    }


def _workspaces(value, names: dict[str, str]) -> str:
    """Workspace ids as their names; a workspace deleted since shows as such, after the named ones."""
    known = sorted((names[pk] for pk in value or [] if pk in names), key=str.casefold)
    deleted = [_("deleted workspace") for pk in value or [] if pk not in names]
    return ", ".join(known + deleted) or _("no workspace")


WORKSPACES_FIELD = AuditField(gettext_lazy("Workspaces"), _workspaces, resolve=_workspace_names)


def register() -> None:
    audit_vocabulary_register(
        targets=AuditTarget, actions=AuditAction, fields={AuditTarget.MACHINE: {"workspaces": WORKSPACES_FIELD}}
    )
