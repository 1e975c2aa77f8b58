"""How django-allauth fits the share centre: a new user without an organisation is sent to name theirs, and a person
who signs up through a colleague invitation joins the inviting organisation instead, their address verified by the
invitation link itself."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.errors import DomainError

from .selectors import colleague_invitation_by_token
from .services import colleague_invitation_accept

logger = logging.getLogger(__name__)

#: Session key of the colleague invitation whose link the visitor followed before signing up.
INVITATION_SESSION_KEY = "accounts_colleague_invitation"


def invitation_in_session(request):
    """The open colleague invitation the visitor came with, if any."""
    invitation = colleague_invitation_by_token(request.session.get(INVITATION_SESSION_KEY, ""))
    if invitation is None or not invitation.is_open_at(timezone.now()):
        return None
    return invitation


class AccountAdapter(DefaultAccountAdapter):
    def _landing_url(self, request) -> str | None:
        user = request.user
        if user.is_authenticated and user.organisation_id is None:
            return reverse("accounts:organisation_create")
        return None

    def get_login_redirect_url(self, request):
        return self._landing_url(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return self._landing_url(request) or super().get_signup_redirect_url(request)

    def format_email_subject(self, subject):
        # allauth would prefix the site's domain; the product's name reads better.
        return _("Share centre: %(subject)s") % {"subject": subject}

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        invitation = invitation_in_session(request)
        if commit and invitation is not None and invitation.email == user.email:
            try:
                colleague_invitation_accept(invitation=invitation, user=user)
            except DomainError as error:
                # Accepted or revoked a moment ago: the new user simply names an organisation of their own.
                logger.info("Colleague invitation %s not accepted at sign-up: %s", invitation.pk, error.code)
            else:
                # The invitation link reached this address: allauth marks it verified and sends no verification
                # e-mail (its own mechanism for invitations, read when it records the user's address next).
                self.stash_verified_email(request, user.email)
            request.session.pop(INVITATION_SESSION_KEY, None)
        return user
