"""The e-mails of the accounts app, each rendered from its own templates under templates/emails/<message>/ (subject,
text body, HTML body, as the sharing notifications) in the language of the organisation it speaks for. They are sent
through the notification outbox (sharing/notifications.py), which renders them with the context built here."""

from django.conf import settings
from django.urls import reverse

from .models import ColleagueInvitation, Role
from .selectors import user_exists_with_email


def colleague_invitation_url(invitation: ColleagueInvitation) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation.token])


def colleague_invitation_context(invitation: ColleagueInvitation) -> dict:
    """What the invitation e-mail says: read from the invitation as it is now, so the link is always the live one.
    The role's label is lazy, translated when the e-mail is rendered in the organisation's language. A person who
    already has an account (without an organisation, or they could not be invited) is asked to log in, not sign up."""
    return {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "inviter": invitation.invited_by,
        "role": Role(invitation.role).label,
        "accept_url": colleague_invitation_url(invitation),
        "has_account": user_exists_with_email(invitation.email),
    }
