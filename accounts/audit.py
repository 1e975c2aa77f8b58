"""The accounts app's words in the audit trail: organisation settings, members, API keys, colleague invitations and
contacts. Registered with the audit app in AccountsConfig.ready()."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.vocabulary import audit_vocabulary_register


class AuditTarget(models.TextChoices):
    # A member's role and removal are recorded on the organisation (a user's id is no UUID, and membership is the
    # organisation's business); the member's e-mail is in the changes.
    ORGANISATION = "organisation", _("Organisation")
    API_KEY = "api_key", _("API key")
    COLLEAGUE_INVITATION = "colleague_invitation", _("Colleague invitation")
    CONTACT = "contact", _("Contact")


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    REVOKED = "revoked", _("Revoked")
    SENT_AGAIN = "sent_again", _("Sent again")
    ACCEPTED = "accepted", _("Accepted")
    MEMBER_ROLE_CHANGED = "member_role_changed", _("Member's role changed")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    REMOVED = "removed", _("Removed")


def register() -> None:
    audit_vocabulary_register(targets=AuditTarget, actions=AuditAction)
