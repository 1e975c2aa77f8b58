"""Scoped reads of an organisation's own accounts data: its address book of recipients, its members,
its colleague invitations and its API keys."""

import functools

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from hiboo_connect import rows
from hiboo_connect.errors import get_or_not_found

from .models import ApiKey, ColleagueInvitation, Contact, Organisation, User


def contacts_of(organisation: Organisation) -> QuerySet[Contact]:
    return Contact.objects.filter(organisation=organisation).select_related("known_organisation")


def contacts_search(*, organisation: Organisation, query: str, limit: int = 8) -> list[Contact]:
    """The address-book entries whose e-mail, name or organisation matches `query` (the recipient typeahead)."""
    return list(contacts_matching(organisation=organisation, query=query)[:limit])


def contacts_matching(*, organisation: Organisation, query: str = "") -> QuerySet[Contact]:
    """The address book, or the entries whose e-mail, name or organisation contains `query` (the contacts page)."""
    query = (query or "").strip()
    contacts = contacts_of(organisation)
    if query:
        contacts = contacts.filter(
            Q(email__icontains=query)
            | Q(name__icontains=query)
            | Q(organisation_name__icontains=query)
            | Q(known_organisation__name__icontains=query)
        )
    return contacts.order_by("email", "pk")


def contact_get(*, organisation: Organisation, contact_id) -> Contact:
    return get_or_not_found(contacts_of(organisation), "contact_not_found", _("No such contact."), pk=contact_id)


def members_of(organisation: Organisation) -> QuerySet[User]:
    return User.objects.filter(organisation=organisation).order_by("email")


def member_get(*, organisation: Organisation, user_id) -> User:
    return get_or_not_found(
        members_of(organisation).select_related("organisation"), "member_not_found", _("No such member."), pk=user_id
    )


def colleague_invitations_pending(organisation: Organisation) -> QuerySet[ColleagueInvitation]:
    """Invitations not accepted yet, expired ones included (an admin may send them again)."""
    return (
        ColleagueInvitation.objects.filter(organisation=organisation, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("email")
    )


def colleague_invitation_get(*, organisation: Organisation, invitation_id) -> ColleagueInvitation:
    return get_or_not_found(
        colleague_invitations_pending(organisation).select_related("organisation"),
        "invitation_not_found",
        _("No such invitation."),
        pk=invitation_id,
    )


def colleague_invitation_by_token(token: str) -> ColleagueInvitation | None:
    """The invitation an e-mailed link stands for (the token is the credential: no organisation scope applies)."""
    if not token or "\x00" in token:
        return None  # a NUL character is no token (and PostgreSQL cannot compare it)
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
    return get_or_not_found(api_keys_of(organisation), "api_key_not_found", _("No such API key."), pk=api_key_id)


def account_by_email(email: str) -> User | None:
    """The account of this e-mail with its organisation (None: no account), in plain SQL (hiboo_connect/rows.py):
    every sharing created and every contract applied looks its recipient up."""
    found = rows.joined(User, "organisation", _account_by_email_sql(), [email])
    return found[0] if found else None


@functools.cache
def _account_by_email_sql() -> str:
    return (
        f"SELECT {rows.select(User, 'u')}, {rows.select(Organisation, 'o')} "
        "FROM accounts_user u LEFT JOIN accounts_organisation o ON o.id = u.organisation_id WHERE u.email = %s"
    )
