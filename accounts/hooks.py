"""The points where the layers above accounts take part in what happens here (DESIGN §5): accounts never imports them;
they register, once at start-up, in their AppConfig.ready().

- `user_joined_organisation`: a user has just founded or joined an organisation (sign-up, colleague invitation
  accepted). Receivers run inside the same transaction, so their writes commit or roll back with it; the sharing
  layer attaches the sharings addressed to the user's e-mail.
- `pending_invitations`: what is waiting for an e-mail address before its owner has an organisation (sharings sent to
  it), so the page where they name their organisation can say so and pre-fill it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Hook:
    """An ordered list of receivers, called with keyword arguments."""

    def __init__(self, name: str):
        self.name = name
        self._receivers: list[Callable[..., Any]] = []

    def register(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def run(self, **kwargs) -> list[Any]:
        """Call every receiver in turn; returns what they returned, in order."""
        return [receiver(**kwargs) for receiver in self._receivers]


@dataclass(frozen=True)
class PendingInvitation:
    """Something sent to an e-mail address that has no organisation yet."""

    #: The organisation name the sender typed for the recipient ("" when none).
    organisation_name: str
    #: Who sent it, and their time zone (the recipient is often on the same site).
    sender_name: str
    sender_timezone: str


#: Receivers: (*, actor, user) → None.
user_joined_organisation = Hook("user_joined_organisation")
#: Receivers: (*, email) → list[PendingInvitation], newest first.
pending_invitations = Hook("pending_invitations")


def pending_invitations_for(email: str) -> list[PendingInvitation]:
    return [invitation for found in pending_invitations.run(email=email) for invitation in found]
