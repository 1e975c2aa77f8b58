"""Writes on organisations, members, colleague invitations, contacts, API keys and idempotency records.
Every write of these goes through here; each change an organisation's admins make (settings, members, API keys,
invitations, contacts) writes its audit event in the same transaction."""

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import audit_record
from hiboo_connect import rows
from hiboo_connect.errors import DomainError, InvalidInput, NotAllowed, RuleConflict
from hiboo_connect.text import single_line

from . import hooks
from .actors import Actor
from .audit import AuditAction, AuditTarget
from .emails import colleague_invitation_messages_drop, notify_colleague_invited
from .models import (
    REMINDER_DAYS_MAX,
    TIMEZONE_CHOICES,
    ApiKey,
    ApiKeyRole,
    ColleagueInvitation,
    Contact,
    IdempotencyRecord,
    IdempotencyState,
    Language,
    Organisation,
    Role,
    User,
    new_invitation_token,
)

TIMEZONE_NAMES = frozenset(name for name, _label in TIMEZONE_CHOICES)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organisation"
    slug, counter = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _current_time() -> dt.datetime:
    # organisation_create's `timezone` argument hides the module there.
    return timezone.now()


@transaction.atomic
def organisation_create(
    *, name: str, admin: User, timezone: str = "Europe/Paris", language: str = "en", now: dt.datetime | None = None
) -> Organisation:
    """Create an organisation with `admin` as its first admin (sign-up, invitation acceptance, demo data), at `now`
    (the current time by default)."""
    created_at = now or _current_time()
    name, timezone, language = _clean_organisation_fields(name=name, timezone_name=timezone, language=language)
    if admin.organisation_id is not None:
        raise InvalidInput("already_in_organisation", _("This user already belongs to an organisation."))
    organisation = Organisation.objects.create(
        name=name, slug=_unique_slug(name), timezone=timezone, language=language, created_at=created_at
    )
    admin.organisation = organisation
    admin.role = Role.ADMIN
    admin.save(update_fields=["organisation", "role"])
    return organisation


def contact_record(
    *, organisation: Organisation, email: str, organisation_name: str = "", known_organisation=None
) -> Contact:
    """Add a sharing's recipient to the owner's address book, or bring the entry up to date. Called by services."""
    organisation_name = single_line(organisation_name)[:200]
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
    before = (contact.name, contact.organisation_name)
    contact.name = single_line(name)[:200]
    contact.organisation_name = single_line(organisation_name)[:200]
    contact.save(update_fields=["name", "organisation_name", "updated_at"])
    after = (contact.name, contact.organisation_name)
    changes = _changed(zip(("name", "organisation_name"), before, after, strict=True))
    if changes:
        _audit(actor, contact.organisation, AuditTarget.CONTACT, contact.pk, AuditAction.UPDATED, changes)
    return contact


@transaction.atomic
def contact_remove(*, actor: Actor, contact: Contact) -> None:
    """Take an entry out of the address book. Sharings keep their recipient's address (they never pointed to the
    entry), and sharing with that address again adds it back."""
    actor.require_admin_of(contact.organisation)
    changes = [
        (field, getattr(contact, field), None)
        for field in ("email", "name", "organisation_name")
        if getattr(contact, field)
    ]
    _audit(actor, contact.organisation, AuditTarget.CONTACT, contact.pk, AuditAction.REMOVED, changes)
    contact.delete()


def _changed(triples) -> list[tuple]:
    """The (field, before, after) triples whose value changed."""
    return [(field, before, after) for field, before, after in triples if before != after]


def _audit(actor: Actor, organisation: Organisation, target_type: str, target_id, action: str, changes) -> None:
    audit_record(
        actor=actor,
        organisation=organisation,
        target_type=target_type,
        target_id=target_id,
        action=action,
        changes=changes,
        now=timezone.now(),
    )


# --- API keys --------------------------------------------------------------------------------------------------------

API_KEY_PREFIX = "hck"
#: last_used_at is written at most this often per key, so authenticating stays a read on most requests.
API_KEY_USE_RESOLUTION = dt.timedelta(minutes=1)


def _hash_api_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


#: `hck_<prefix>_<secret>`: 8 hex digits of public prefix, then the secret (secrets.token_urlsafe(32)).
API_KEY_PATTERN = re.compile(r"hck_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")


def _parse_api_key(token: str) -> tuple[str, str] | None:
    """The prefix and secret of a key; None for anything that is no key of ours (never sent to the database)."""
    match = API_KEY_PATTERN.fullmatch((token or "").strip())
    return (match.group(1), match.group(2)) if match else None


@transaction.atomic
def api_key_create(
    *, actor: Actor, organisation: Organisation, name: str, role: str = ApiKeyRole.ADMIN
) -> tuple[ApiKey, str]:
    """Create an API key for `organisation` (admins only). Returns the key and its clear text, which is never stored:
    show it once."""
    actor.require_admin_of(organisation)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name_required", _("Give the key a name."), field="name")
    if len(name) > cast(int, ApiKey._meta.get_field("name").max_length):
        raise InvalidInput("name_too_long", _("The name is too long (100 characters at most)."), field="name")
    if role not in ApiKeyRole.values:
        raise InvalidInput("invalid_role", _("Choose admin or viewer."), field="role")
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        role=role,
        prefix=prefix,
        secret_hash=_hash_api_secret(secret),
        created_by=actor.user,
    )
    changes = [("name", None, name), ("role", None, role), ("prefix", None, prefix)]
    _audit(actor, organisation, AuditTarget.API_KEY, api_key.pk, AuditAction.CREATED, changes)
    return api_key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good: requests with it are refused from now on. Revoking twice changes nothing."""
    actor.require_admin_of(api_key.organisation)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        changes = [("revoked_at", None, api_key.revoked_at)]
        _audit(actor, api_key.organisation, AuditTarget.API_KEY, api_key.pk, AuditAction.REVOKED, changes)
    return api_key


def _live_api_key(prefix: str) -> ApiKey | None:
    """The live key of this prefix with its organisation: the one read of every API request, in plain SQL
    (hiboo_connect/rows.py)."""
    found = rows.joined(ApiKey, "organisation", _live_api_key_sql(), [prefix])
    return found[0] if found else None


@functools.cache
def _live_api_key_sql() -> str:
    return (
        f"SELECT {rows.select(ApiKey, 'k')}, {rows.select(Organisation, 'o')} "
        "FROM accounts_apikey k JOIN accounts_organisation o ON o.id = k.organisation_id "
        "WHERE k.prefix = %s AND k.revoked_at IS NULL"
    )


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The live key this clear text stands for, or None. Records the use, at most once a minute per key, with one
    conditional UPDATE so concurrent requests never queue on the row."""
    parsed = _parse_api_key(token)
    if parsed is None:
        return None
    prefix, secret = parsed
    api_key = _live_api_key(prefix)
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash_api_secret(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at <= now - API_KEY_USE_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - API_KEY_USE_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- idempotency records of API writes -------------------------------------------------------------------------------

#: How long a response is kept for retries with the same Idempotency-Key.
IDEMPOTENCY_RETENTION = dt.timedelta(hours=24)
#: A claim older than this whose request never completed (the worker died) may be taken over by a retry.
IDEMPOTENCY_CLAIM_TIMEOUT = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class IdempotencyClaim:
    """The outcome of claiming a key: `record` is ours to execute when `claimed`, else the existing record."""

    record: IdempotencyRecord
    claimed: bool


def idempotency_claim(*, api_key: ApiKey, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claim `key` for one request before it executes, in a transaction of its own so that a concurrent request
    with the same key sees the claim. A record past retention, or a claim abandoned by a dead worker, is taken
    over. Call it outside any transaction."""
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                api_key=api_key,
                key=key,
                fingerprint=fingerprint,
                state=IdempotencyState.IN_PROGRESS,
                claimed_at=now,
                created_at=now,
            )
        return IdempotencyClaim(record=record, claimed=True)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(api_key=api_key, key=key)
    expired = Q(created_at__lte=now - IDEMPOTENCY_RETENTION)
    abandoned = Q(state=IdempotencyState.IN_PROGRESS, claimed_at__lte=now - IDEMPOTENCY_CLAIM_TIMEOUT)
    if record.fingerprint == fingerprint or record.created_at <= now - IDEMPOTENCY_RETENTION:
        # Conditional on the row still being stale, so only one of several concurrent retries takes it over.
        taken = (
            IdempotencyRecord.objects.filter(pk=record.pk, claimed_at=record.claimed_at)
            .filter(expired | abandoned)
            .update(
                fingerprint=fingerprint,
                state=IdempotencyState.IN_PROGRESS,
                claimed_at=now,
                created_at=now,
                response_status=None,
                response_body=None,
            )
        )
        if taken:
            record.refresh_from_db()
            return IdempotencyClaim(record=record, claimed=True)
    return IdempotencyClaim(record=record, claimed=False)


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    """Store the response of a claimed request; a retry with the same key gets exactly this back."""
    record.state = IdempotencyState.DONE
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["state", "response_status", "response_body"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Give up a claim whose request failed unexpectedly (nothing was written), so that a retry executes it."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).delete()


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete records past retention (a periodic task). Returns how many were deleted."""
    now = now or timezone.now()
    deleted, _counts = IdempotencyRecord.objects.filter(created_at__lte=now - IDEMPOTENCY_RETENTION).delete()
    return deleted


# --- organisation settings, members and colleague invitations --------------------------------------------------------


def _clean_organisation_fields(*, name: str, timezone_name: str, language: str) -> tuple[str, str, str]:
    name = single_line(name)
    if not name:
        raise InvalidInput("name_required", _("Give the organisation a name."), field="name")
    if len(name) > cast(int, Organisation._meta.get_field("name").max_length):
        raise InvalidInput("name_too_long", _("The name is too long (200 characters at most)."), field="name")
    if timezone_name not in TIMEZONE_NAMES:
        raise InvalidInput("invalid_timezone", _("Choose a time zone from the list."), field="timezone")
    if language not in Language.values:
        raise InvalidInput("invalid_language", _("Choose English or French."), field="language")
    return name, timezone_name, language


@transaction.atomic
def organisation_create_at_signup(*, user: User, name: str, timezone: str, language: str) -> Organisation:
    """A new user founds their organisation and becomes its admin; every pending sharing addressed to their e-mail
    attaches to it in the same transaction (the invitation is accepted)."""
    organisation = organisation_create(name=name, admin=user, timezone=timezone, language=language)
    hooks.user_joined_organisation.run(actor=Actor.for_user(user), user=user)
    return organisation


#: organisation_update: a setting not given is left as it is.
UNCHANGED: Any = object()


def _clean_reminder_days(days) -> int | None:
    if days is None or days == "":
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= REMINDER_DAYS_MAX:
        raise InvalidInput(
            "invalid_reminder_days",
            _("Give a number of days from 1 to %d, or no reminder.") % REMINDER_DAYS_MAX,
            field="reminder_days",
        )
    return days


@transaction.atomic
def organisation_update(
    *,
    actor: Actor,
    organisation: Organisation,
    name: str,
    timezone: str,
    language: str,
    reminder_days: Any = UNCHANGED,
) -> Organisation:
    """Change the organisation's settings; `reminder_days` (None: no expiry reminders) only when given."""
    actor.require_admin_of(organisation)
    name, timezone, language = _clean_organisation_fields(name=name, timezone_name=timezone, language=language)
    if reminder_days is UNCHANGED:
        reminder_days = organisation.reminder_days
    reminder_days = _clean_reminder_days(reminder_days)
    fields = ("name", "timezone", "language", "reminder_days")
    before = tuple(getattr(organisation, field) for field in fields)
    after = (name, timezone, language, reminder_days)
    for field, value in zip(fields, after, strict=True):
        setattr(organisation, field, value)
    organisation.save(update_fields=list(fields))
    changes = _changed(zip(fields, before, after, strict=True))
    if changes:
        _audit(actor, organisation, AuditTarget.ORGANISATION, organisation.pk, AuditAction.UPDATED, changes)
    return organisation


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidInput("invalid_role", _("Choose a role: admin or member."), field="role")
    return role


def _require_another_admin(member: User) -> None:
    """An organisation always keeps an admin. The admins' rows are locked so two admins demoting each other at the
    same moment cannot both succeed."""
    admins = list(
        User.objects.select_for_update()
        .filter(organisation=member.organisation, role=Role.ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )
    if set(admins) - {member.pk}:
        return
    raise RuleConflict(
        "last_admin",
        _("An organisation keeps at least one admin: make someone else admin first."),
        field="role",
    )


@transaction.atomic
def member_role_change(*, actor: Actor, member: User, role: str) -> User:
    if member.organisation is None:
        raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
    actor.require_admin_of(member.organisation)
    role = _clean_role(role)
    if member.role == Role.ADMIN and role != Role.ADMIN:
        _require_another_admin(member)
    if member.role != role:
        changes = [("member", member.email, member.email), ("role", member.role, role)]
        member.role = role
        member.save(update_fields=["role"])
        organisation = member.organisation
        _audit(actor, organisation, AuditTarget.ORGANISATION, organisation.pk, AuditAction.MEMBER_ROLE_CHANGED, changes)
    return member


@transaction.atomic
def member_remove(*, actor: Actor, member: User) -> None:
    """Take a user out of the organisation. Their account stays: at their next visit they may found an organisation
    of their own, and they see nothing of this one any more."""
    if member.organisation is None:
        raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
    actor.require_admin_of(member.organisation)
    if member.role == Role.ADMIN:
        _require_another_admin(member)
    organisation, changes = member.organisation, [("member", member.email, None), ("role", member.role, None)]
    member.organisation = None
    member.role = Role.MEMBER
    member.save(update_fields=["organisation", "role"])
    _audit(actor, organisation, AuditTarget.ORGANISATION, organisation.pk, AuditAction.MEMBER_REMOVED, changes)


def _clean_invitation_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("invalid_email", _("Enter a valid e-mail address."), field="email") from None
    return email


@transaction.atomic
def colleague_invite(*, actor: Actor, email: str, role: str) -> ColleagueInvitation:
    """Invite a colleague to the actor's organisation with a role, by e-mail. Inviting an address again refreshes its
    pending invitation (new link, role and expiry) and sends it again. A person whose account belongs to an
    organisation cannot be invited (a user belongs to one organisation only); an account without one (taken out of
    its organisation, or never named one) can, and its e-mail asks to log in rather than sign up. The e-mail goes
    through the outbox: written in this transaction, sent after commit, retried and re-dispatched like every message."""
    organisation = actor.organisation
    if organisation is None:
        raise NotAllowed("no_organisation", _("You need an organisation to invite colleagues."))
    actor.require_admin_of(organisation)
    email = _clean_invitation_email(email)
    role = _clean_role(role)
    existing = User.objects.filter(email=email).select_related("organisation").first()
    if existing is not None and existing.organisation is not None:
        message = (
            _("This person is already a member of your organisation.")
            if existing.organisation == organisation
            else _("This person already belongs to another organisation: a user belongs to one organisation only.")
        )
        raise InvalidInput("email_in_organisation", message, field="email")
    now = timezone.now()
    pending = (
        ColleagueInvitation.objects.select_for_update()
        .filter(organisation=organisation, email=email, accepted_at__isnull=True)
        .first()
    )
    refreshed = pending is not None
    invitation = pending or ColleagueInvitation(organisation=organisation, email=email)
    before = (invitation.role, invitation.expires_at) if refreshed else (None, None)
    invitation.role = role
    invitation.token = new_invitation_token()
    invitation.invited_by = actor.user
    invitation.expires_at = now + ColleagueInvitation.VALIDITY
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise InvalidInput(
            "invitation_exists", _("This address was invited a moment ago; refresh the page."), field="email"
        ) from None
    changes = [
        *([] if refreshed else [("email", None, email)]),
        ("role", before[0], role),
        ("expires_at", before[1], invitation.expires_at),
    ]
    action = AuditAction.SENT_AGAIN if refreshed else AuditAction.CREATED
    _audit(actor, organisation, AuditTarget.COLLEAGUE_INVITATION, invitation.pk, action, changes)
    # A message still unsent for an earlier link would only repeat this one (every message carries the live link).
    colleague_invitation_messages_drop([invitation.pk], unsent_only=True)
    notify_colleague_invited(invitation)
    return invitation


@transaction.atomic
def colleague_invitation_revoke(*, actor: Actor, invitation: ColleagueInvitation) -> None:
    actor.require_admin_of(invitation.organisation)
    if invitation.accepted_at is not None:
        raise RuleConflict("invitation_accepted", _("This invitation has already been accepted."))
    changes = [("email", invitation.email, None), ("role", invitation.role, None)]
    _audit(
        actor, invitation.organisation, AuditTarget.COLLEAGUE_INVITATION, invitation.pk, AuditAction.REVOKED, changes
    )
    # A revoked invitation takes its e-mails with it, sent or not.
    colleague_invitation_messages_drop([invitation.pk], unsent_only=False)
    invitation.delete()


def colleague_invitation_refusal(*, invitation: ColleagueInvitation, user: User | None, now) -> DomainError | None:
    """Why `user` (or anyone, when None) cannot accept `invitation` now, or None. Pages use it to explain before
    offering the button."""
    if invitation.accepted_at is not None:
        return RuleConflict("invitation_accepted", _("This invitation has already been accepted."))
    if now >= invitation.expires_at:
        return RuleConflict(
            "invitation_expired", _("This invitation has expired: ask your colleague to invite you again.")
        )
    if user is None:
        return None
    if user.email.lower() != invitation.email:
        return NotAllowed(
            "invitation_other_email",
            _("This invitation is addressed to %(email)s; log in with that address to accept it.")
            % {"email": invitation.email},
        )
    if user.organisation is not None:
        return RuleConflict(
            "already_in_organisation",
            _("You already belong to %(organisation)s: a user belongs to one organisation only.")
            % {"organisation": user.organisation.name},
        )
    return None


@transaction.atomic
def colleague_invitation_accept(*, invitation: ColleagueInvitation, user: User) -> User:
    """The invited person (signed up with the invited e-mail, or logged in to their account without an organisation)
    joins the inviting organisation with the invited role. Pending sharings addressed to their e-mail attach to that
    organisation, as at any sign-up."""
    invitation = ColleagueInvitation.objects.select_for_update().select_related("organisation").get(pk=invitation.pk)
    refusal = colleague_invitation_refusal(invitation=invitation, user=user, now=timezone.now())
    if refusal is not None:
        raise refusal
    user.organisation = invitation.organisation
    user.role = invitation.role
    user.save(update_fields=["organisation", "role"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    changes = [("accepted_at", None, invitation.accepted_at), ("member", None, user.email), ("role", None, user.role)]
    _audit(
        Actor.for_user(user),
        invitation.organisation,
        AuditTarget.COLLEAGUE_INVITATION,
        invitation.pk,
        AuditAction.ACCEPTED,
        changes,
    )
    colleague_invitation_messages_drop([invitation.pk], unsent_only=True)
    # Other organisations' invitations to this address can no longer be accepted (their e-mails go with them).
    void = ColleagueInvitation.objects.filter(email=invitation.email, accepted_at__isnull=True)
    colleague_invitation_messages_drop(list(void.values_list("pk", flat=True)), unsent_only=False)
    void.delete()
    hooks.user_joined_organisation.run(actor=Actor.for_user(user), user=user)
    return user
