"""The e-mails of the accounts app, as the outbox's message kinds (registered in AccountsConfig.ready()), each
rendered from its own templates under templates/emails/<kind>/ (subject, text body, HTML body, as the sharing
e-mails) in the language of the organisation it speaks for. The outbox (outbox/delivery.py) delivers them and states
its guarantees."""

import datetime as dt
import hashlib

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hiboo_connect.errors import RuleConflict
from outbox.kinds import MessageKind, message_kinds_register
from outbox.models import Message
from outbox.services import message_queue, messages_drop

from .models import ColleagueInvitation, Language, Role
from .selectors import user_exists_with_email

COLLEAGUE_INVITATION = "colleague_invitation"
#: The subject type of an invitation's messages: the outbox keeps the invitation by type and id.
SUBJECT = "colleague_invitation"


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


def notify_colleague_invited(invitation: ColleagueInvitation) -> Message | None:
    """E-mail a colleague invitation that was just created or refreshed. Each refresh gives the invitation a new token,
    so the token names the occurrence: "Send again" queues a new message, a re-run of the same one nothing. The key
    holds a digest of the token only, since the key travels in the Message-ID and shows in the admin."""
    digest = hashlib.sha256(invitation.token.encode()).hexdigest()[:16]
    organisation = invitation.organisation
    return message_queue(
        key=f"colleague_invitation:{invitation.pk}:{digest}",
        kind=COLLEAGUE_INVITATION,
        organisation=organisation,
        subject_id=invitation.pk,
        recipient=invitation.email,
        language=organisation.language if organisation.language in Language.values else Language.ENGLISH,
        time_zone=organisation.timezone,
        context={"organisation": organisation.name, "role": invitation.role},
    )


def colleague_invitation_messages_drop(invitation_ids, *, unsent_only: bool) -> int:
    """Drop invitations' e-mails: those not yet sent (pending or failed) when the invitation was accepted or is being
    sent again (they have nothing left to say, or would repeat the new one), or all of them when the invitation goes
    (revoked, or made void by an acceptance elsewhere). Returns how many were dropped."""
    return messages_drop(subject_type=SUBJECT, subject_ids=invitation_ids, unsent_only=unsent_only)


def _render_context(message: Message) -> dict | None:
    """Read at send time: a "Send again" replaced the token of any earlier message, so a retried one must not revive
    it. An invitation gone meanwhile (revoked, accepted elsewhere) has nothing left to say."""
    invitation = (
        ColleagueInvitation.objects.select_related("organisation", "invited_by").filter(pk=message.subject_id).first()
    )
    return colleague_invitation_context(invitation) if invitation is not None else None


def _retry_refusal(message: Message, now: dt.datetime) -> RuleConflict | None:
    """An expired invitation's link no longer works: it needs a new one, from the members page."""
    invitation = ColleagueInvitation.objects.filter(pk=message.subject_id).first()
    if invitation is not None and not invitation.is_open_at(now):
        return RuleConflict(
            "invitation_expired", _("This invitation has expired: send it again from the members page.")
        )
    return None


def register() -> None:
    message_kinds_register(
        MessageKind(
            name=COLLEAGUE_INVITATION,
            label=gettext_lazy("Invitation to join the organisation"),
            subject_type=SUBJECT,
            render_context=_render_context,
            retry_refusal=_retry_refusal,
        )
    )
