"""Scoped reads of an organisation's own accounts data: its workspaces, its address book of recipients, its members,
its colleague invitations and its API keys."""

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from hiboo_connect.errors import NotFound

from .models import ApiKey, ColleagueInvitation, Contact, Organisation, User, Workspace


def workspaces_of(organisation: Organisation) -> QuerySet[Workspace]:
    return Workspace.objects.filter(organisation=organisation)


def workspace_get(*, organisation: Organisation, workspace_id) -> Workspace:
    try:
        return workspaces_of(organisation).get(pk=workspace_id)
    except (Workspace.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("workspace_not_found", _("No such workspace.")) from None


def contacts_of(organisation: Organisation) -> QuerySet[Contact]:
    return Contact.objects.filter(organisation=organisation).select_related("known_organisation")


def contacts_search(*, organisation: Organisation, query: str, limit: int = 8) -> list[Contact]:
    """The address-book entries whose e-mail, name or organisation matches `query` (the recipient typeahead)."""
    query = (query or "").strip()
    contacts = contacts_of(organisation)
    if query:
        contacts = contacts.filter(
            Q(email__icontains=query)
            | Q(name__icontains=query)
            | Q(organisation_name__icontains=query)
            | Q(known_organisation__name__icontains=query)
        )
    return list(contacts.order_by("email")[:limit])


def contact_get(*, organisation: Organisation, contact_id) -> Contact:
    try:
        return contacts_of(organisation).get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("contact_not_found", _("No such contact.")) from None


def members_of(organisation: Organisation) -> QuerySet[User]:
    return User.objects.filter(organisation=organisation).order_by("email")


def member_get(*, organisation: Organisation, user_id) -> User:
    try:
        return members_of(organisation).select_related("organisation").get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("member_not_found", _("No such member.")) from None


def colleague_invitations_pending(organisation: Organisation) -> QuerySet[ColleagueInvitation]:
    """Invitations not accepted yet, expired ones included (an admin may send them again)."""
    return (
        ColleagueInvitation.objects.filter(organisation=organisation, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("email")
    )


def colleague_invitation_get(*, organisation: Organisation, invitation_id) -> ColleagueInvitation:
    try:
        return colleague_invitations_pending(organisation).select_related("organisation").get(pk=invitation_id)
    except (ColleagueInvitation.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("invitation_not_found", _("No such invitation.")) from None


def colleague_invitation_by_token(token: str) -> ColleagueInvitation | None:
    """The invitation an e-mailed link stands for (the token is the credential: no organisation scope applies)."""
    if not token:
        return None
    return (
        ColleagueInvitation.objects.select_related("organisation", "invited_by").filter(token=str(token)[:64]).first()
    )


def colleague_invitations_open_for(*, email: str, now) -> QuerySet[ColleagueInvitation]:
    """Invitations addressed to `email` that can still be accepted (offered to a new user who has no organisation)."""
    return ColleagueInvitation.objects.filter(
        email=(email or "").lower(), accepted_at__isnull=True, expires_at__gt=now
    ).select_related("organisation", "invited_by")


def user_exists_with_email(email: str) -> bool:
    """Whether `email` is already some user's login: their invitation asks them to log in rather than to sign up."""
    return User.objects.filter(email=(email or "").strip().lower()).exists()


def api_keys_of(organisation: Organisation) -> QuerySet[ApiKey]:
    """The organisation's API keys, live ones first, newest first."""
    return (
        ApiKey.objects.filter(organisation=organisation)
        .select_related("created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    )


def api_key_get(*, organisation: Organisation, api_key_id) -> ApiKey:
    try:
        return api_keys_of(organisation).get(pk=api_key_id)
    except (ApiKey.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("api_key_not_found", _("No such API key.")) from None
