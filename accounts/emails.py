"""The e-mails of the accounts app, each rendered from its own templates under templates/emails/<message>/ (subject,
text body, HTML body, as the sharing notifications) in the language of the organisation it speaks for."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import ColleagueInvitation


def colleague_invitation_url(invitation) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation.token])


def colleague_invitation_send(*, invitation_id) -> None:
    """Send (again) the invitation e-mail, with its current link. Called after the invitation is committed."""
    invitation = (
        ColleagueInvitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return  # revoked or accepted in the meantime
    context = {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "inviter": invitation.invited_by,
        "accept_url": colleague_invitation_url(invitation),
        "portal_url": settings.SITE_URL + "/",
    }
    with translation.override(invitation.organisation.language):
        context["role"] = invitation.get_role_display()
        subject = " ".join(render_to_string("emails/colleague_invitation/subject.txt", context).split())
        text = render_to_string("emails/colleague_invitation/body.txt", context)
        html = render_to_string("emails/colleague_invitation/body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()
