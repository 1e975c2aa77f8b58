"""Who performs an action: a user, an API key or the system. Services take an Actor and check its rights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from hiboo_connect.errors import NotAllowed

if TYPE_CHECKING:
    from .models import Organisation, User


@dataclass(frozen=True)
class Actor:
    organisation: Organisation | None
    user: User | None = None
    api_key: Any = None
    is_admin: bool = False
    is_system: bool = False

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(organisation=user.organisation, user=user, is_admin=user.is_organisation_admin)

    @classmethod
    def for_api_key(cls, api_key) -> Actor:
        return cls(organisation=api_key.organisation, api_key=api_key, is_admin=api_key.is_admin)

    @classmethod
    def system(cls) -> Actor:
        return cls(organisation=None, is_system=True, is_admin=True)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"API key {self.api_key.name}"
        return "system"

    def require_admin_of(self, organisation: Organisation) -> None:
        """Refuse unless this actor administers `organisation` (the system may act for any organisation)."""
        if self.is_system:
            return
        if self.organisation is None or self.organisation.pk != organisation.pk:
            raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
        if not self.is_admin:
            raise NotAllowed("admin_required", _("Only an admin of the organisation can do this."))

    def require_member_of(self, organisation: Organisation) -> None:
        if self.is_system:
            return
        if self.organisation is None or self.organisation.pk != organisation.pk:
            raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
