"""Writes on organisations, workspaces and contacts. Every write of these goes through here."""

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from hiboo_connect.errors import InvalidInput

from .actors import Actor
from .models import Contact, Organisation, Role, User, Workspace


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organisation"
    slug, counter = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


@transaction.atomic
def organisation_create(
    *, name: str, admin: User, timezone: str = "Europe/Paris", language: str = "en"
) -> Organisation:
    """Create an organisation with `admin` as its first admin (sign-up, invitation acceptance, demo data)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name_required", _("Give the organisation a name."), field="name")
    if admin.organisation_id is not None:
        raise InvalidInput("already_in_organisation", _("This user already belongs to an organisation."))
    organisation = Organisation.objects.create(name=name, slug=_unique_slug(name), timezone=timezone, language=language)
    admin.organisation = organisation
    admin.role = Role.ADMIN
    admin.save(update_fields=["organisation", "role"])
    return organisation


def _clean_workspace_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name_required", _("Give the workspace a name."), field="name")
    if len(name) > Workspace._meta.get_field("name").max_length:
        raise InvalidInput("name_too_long", _("The name is too long (120 characters at most)."), field="name")
    return name


@transaction.atomic
def workspace_create(*, actor: Actor, name: str) -> Workspace:
    actor.require_admin_of(actor.organisation)
    name = _clean_workspace_name(name)
    try:
        with transaction.atomic():
            return Workspace.objects.create(organisation=actor.organisation, name=name)
    except IntegrityError:
        raise InvalidInput("name_taken", _("A workspace with this name already exists."), field="name") from None


@transaction.atomic
def workspace_rename(*, actor: Actor, workspace: Workspace, name: str) -> Workspace:
    actor.require_admin_of(workspace.organisation)
    name = _clean_workspace_name(name)
    if Workspace.objects.filter(organisation=workspace.organisation, name=name).exclude(pk=workspace.pk).exists():
        raise InvalidInput("name_taken", _("A workspace with this name already exists."), field="name")
    workspace.name = name
    workspace.save(update_fields=["name"])
    return workspace


@transaction.atomic
def workspace_delete(*, actor: Actor, workspace: Workspace) -> None:
    """Deleting a workspace removes the grouping only; its machines stay in the fleet."""
    actor.require_admin_of(workspace.organisation)
    workspace.delete()


def contact_record(
    *, organisation: Organisation, email: str, organisation_name: str = "", known_organisation=None
) -> Contact:
    """Add a sharing's recipient to the owner's address book, or bring the entry up to date. Called by services."""
    contact, created = Contact.objects.get_or_create(
        organisation=organisation,
        email=email,
        defaults={"organisation_name": organisation_name, "known_organisation": known_organisation},
    )
    if not created:
        changed = []
        if known_organisation is not None and contact.known_organisation_id != known_organisation.pk:
            contact.known_organisation = known_organisation
            changed.append("known_organisation")
        if organisation_name and not contact.organisation_name:
            contact.organisation_name = organisation_name
            changed.append("organisation_name")
        if changed:
            contact.save(update_fields=[*changed, "updated_at"])
    return contact


@transaction.atomic
def contact_update(*, actor: Actor, contact: Contact, name: str, organisation_name: str) -> Contact:
    actor.require_admin_of(contact.organisation)
    contact.name = (name or "").strip()[:200]
    contact.organisation_name = (organisation_name or "").strip()[:200]
    contact.save(update_fields=["name", "organisation_name", "updated_at"])
    return contact
