"""How the sharing layer takes part in what happens in the layers below it, through the hooks they expose (DESIGN §5):
registered once at start-up by apps.py."""

from accounts import hooks as account_hooks
from fleet.access import register_sharing_facts

from . import selectors, services
from .fleet_facts import SharingFacts

#: As many pending sharings as the "name your organisation" page reads to pre-fill it.
PENDING_SHOWN = 50


def attach_pending_sharings(*, actor, user) -> None:
    """A user founded or joined an organisation: the pending sharings addressed to them attach to it."""
    services.sharings_attach_beneficiary(actor=actor, user=user)


def pending_sharing_invitations(*, email: str) -> list[account_hooks.PendingInvitation]:
    return [
        account_hooks.PendingInvitation(
            organisation_name=sharing.recipient_organisation_name,
            sender_name=sharing.owner.name,
            sender_timezone=sharing.owner.timezone,
        )
        for sharing in selectors.sharings_pending_for_email(email)[:PENDING_SHOWN]
    ]


def register() -> None:
    register_sharing_facts(SharingFacts())
    account_hooks.user_joined_organisation.register(attach_pending_sharings)
    account_hooks.pending_invitations.register(pending_sharing_invitations)
