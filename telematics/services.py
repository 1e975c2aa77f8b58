"""Writes on telematics sources: create, change, delete (admins of the organisation, audited in the same
transaction), and "poll now". The poll itself is in poller.py.

A source's secret (Basic password, OAuth2 client secret or header value) is written here and read only by the
poller: changing the other fields keeps it; changing the kind of authentication needs a new one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from functools import partial
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from audit.services import audit_record
from hiboo_connect import outbound
from hiboo_connect.errors import InvalidInput, NotAllowed
from hiboo_connect.text import single_line

from .audit import AuditAction, AuditTarget
from .models import POLL_MINUTES_MAX, POLL_MINUTES_MIN, AuthType, TelematicsRun, TelematicsSource
from .tasks import telematics_source_poll_task

logger = logging.getLogger(__name__)

#: An HTTP header name (RFC 9110 token).
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
#: Headers the poller sets itself, or that would change how the request travels.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "accept", "content-type", "te"}


@dataclasses.dataclass(frozen=True)
class SourceAuth:
    """How the poller authenticates to the feed. `secret` is the Basic password, the OAuth2 client secret or the
    header's value; None keeps the stored one (on a change of the other fields)."""

    type: str
    username: str = ""
    token_url: str = ""
    client_id: str = ""
    header_name: str = ""
    secret: str | None = None


#: The fields of a source the audit trail records (the secret only as "changed").
AUDITED_FIELDS = (
    "name",
    "base_url",
    "auth_type",
    "username",
    "token_url",
    "client_id",
    "header_name",
    "poll_minutes",
    "create_machines",
)


def _clean_name(name: str) -> str:
    name = single_line(name or "")
    if not name:
        raise InvalidInput("name_required", _("Give the source a name."), field="name")
    if len(name) > cast(int, TelematicsSource._meta.get_field("name").max_length):
        raise InvalidInput("name_too_long", _("The name is too long (120 characters at most)."), field="name")
    return name


def _clean_url(url: str, *, field: str) -> str:
    url = (url or "").strip()
    if not url:
        raise InvalidInput("url_required", _("Give the address of the feed."), field=field)
    if len(url) > 500:
        raise InvalidInput("url_too_long", _("The address is too long (500 characters at most)."), field=field)
    refusal = outbound.target_refusal(url)
    if refusal is not None:
        raise InvalidInput("url_refused", refusal, field=field)
    return url.rstrip("/") if field == "base_url" else url


def _clean_text(value: str, *, field: str, code: str, message: str, max_length: int = 200) -> str:
    value = single_line(value or "")
    if not value:
        raise InvalidInput(code, message, field=field)
    if len(value) > max_length:
        raise InvalidInput("too_long", _("Too long (%(max)d characters at most).") % {"max": max_length}, field=field)
    return value


def _clean_secret(secret: str | None, *, required: bool) -> str | None:
    if secret is None or secret == "":
        if required:
            raise InvalidInput("secret_required", _("Give the password, client secret or key."), field="secret")
        return None
    if len(secret) > 2000 or "\r" in secret or "\n" in secret:
        raise InvalidInput(
            "secret_invalid", _("The secret must be one line of at most 2000 characters."), field="secret"
        )
    return secret


def _clean_auth(auth: SourceAuth, *, current: TelematicsSource | None) -> dict[str, Any]:
    """The auth columns to store. A new secret is required unless the source keeps its kind of authentication."""
    if auth.type not in AuthType.values:
        raise InvalidInput("auth_type_invalid", _("Choose basic, oauth2 or header."), field="auth_type")
    keeps_secret = current is not None and current.auth_type == auth.type
    columns: dict[str, Any] = {
        "auth_type": auth.type,
        "username": "",
        "token_url": "",
        "client_id": "",
        "header_name": "",
    }
    if auth.type == AuthType.BASIC:
        columns["username"] = _clean_text(
            auth.username, field="username", code="username_required", message=_("Give the user name.")
        )
    elif auth.type == AuthType.OAUTH2:
        columns["token_url"] = _clean_url(auth.token_url, field="token_url")
        columns["client_id"] = _clean_text(
            auth.client_id, field="client_id", code="client_id_required", message=_("Give the client id.")
        )
    else:
        name = (auth.header_name or "").strip()
        if not HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
            raise InvalidInput(
                "header_name_invalid",
                _("Give the name of an HTTP header, such as X-Api-Key (letters, digits and - only)."),
                field="header_name",
            )
        columns["header_name"] = name
    secret = _clean_secret(auth.secret, required=not keeps_secret)
    if secret is not None:
        columns["secret"] = secret
    return columns


def _clean_poll_minutes(minutes) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not POLL_MINUTES_MIN <= minutes <= POLL_MINUTES_MAX:
        raise InvalidInput(
            "poll_minutes_invalid",
            _("Poll every %(min)d to %(max)d minutes.") % {"min": POLL_MINUTES_MIN, "max": POLL_MINUTES_MAX},
            field="poll_minutes",
        )
    return minutes


def _require_organisation(actor: Actor):
    if actor.organisation is None:
        raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
    actor.require_admin_of(actor.organisation)
    return actor.organisation


def _save_unique_name(source: TelematicsSource, **kwargs) -> None:
    try:
        with transaction.atomic():
            source.save(**kwargs)
    except IntegrityError:
        raise InvalidInput("name_taken", _("A source with this name already exists."), field="name") from None


def _audit(*, actor: Actor, source: TelematicsSource, action: str, changes, now: dt.datetime) -> None:
    audit_record(
        actor=actor,
        organisation=source.organisation,
        target_type=AuditTarget.TELEMATICS_SOURCE,
        target_id=source.pk,
        action=action,
        changes=changes,
        now=now,
    )


@transaction.atomic
def telematics_source_create(
    *,
    actor: Actor,
    name: str,
    base_url: str,
    auth: SourceAuth,
    poll_minutes: int = 60,
    create_machines: bool = False,
    now: dt.datetime | None = None,
) -> TelematicsSource:
    """Register a feed. Its first poll is due at once."""
    organisation = _require_organisation(actor)
    now = now or timezone.now()
    source = TelematicsSource(
        organisation=organisation,
        name=_clean_name(name),
        base_url=_clean_url(base_url, field="base_url"),
        poll_minutes=_clean_poll_minutes(poll_minutes),
        create_machines=bool(create_machines),
        next_poll_at=now,
        created_at=now,
        updated_at=now,
        **_clean_auth(auth, current=None),
    )
    _save_unique_name(source, force_insert=True)
    changes = [(name, None, getattr(source, name)) for name in AUDITED_FIELDS]
    _audit(actor=actor, source=source, action=AuditAction.CREATED, changes=[*changes, ("secret", None, "set")], now=now)
    return source


@transaction.atomic
def telematics_source_update(
    *, actor: Actor, source: TelematicsSource, changes: dict[str, Any], now: dt.datetime | None = None
) -> TelematicsSource:
    """Change some of name, base_url, auth (a SourceAuth), poll_minutes, create_machines. A shorter interval brings
    the next poll forward."""
    actor.require_admin_of(source.organisation)
    now = now or timezone.now()
    unknown = set(changes) - {"name", "base_url", "auth", "poll_minutes", "create_machines"}
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    if "base_url" in changes:
        values["base_url"] = _clean_url(changes["base_url"], field="base_url")
    if "auth" in changes:
        values.update(_clean_auth(changes["auth"], current=source))
    if "poll_minutes" in changes:
        values["poll_minutes"] = _clean_poll_minutes(changes["poll_minutes"])
    if "create_machines" in changes:
        values["create_machines"] = bool(changes["create_machines"])
    audited = [(name, getattr(source, name), value) for name, value in values.items() if name in AUDITED_FIELDS]
    audited = [change for change in audited if change[1] != change[2]]
    if "secret" in values and values["secret"] != source.secret:
        audited.append(("secret", "set", "changed"))
    if not audited:
        return source
    for name, value in values.items():
        setattr(source, name, value)
    source.updated_at = now
    if "poll_minutes" in values:
        source.next_poll_at = min(source.next_poll_at, now + dt.timedelta(minutes=source.poll_minutes))
    _save_unique_name(source)
    _audit(actor=actor, source=source, action=AuditAction.UPDATED, changes=audited, now=now)
    return source


@transaction.atomic
def telematics_source_delete(*, actor: Actor, source: TelematicsSource, now: dt.datetime | None = None) -> None:
    """Forget a source and its runs. The machines it brought and their data stay."""
    actor.require_admin_of(source.organisation)
    changes = [(name, getattr(source, name), None) for name in AUDITED_FIELDS]
    _audit(actor=actor, source=source, action=AuditAction.DELETED, changes=changes, now=now or timezone.now())
    source.delete()


def _queue_poll(source_id, run_id) -> None:
    try:
        telematics_source_poll_task.apply_async(args=[str(source_id), str(run_id)], retry=False)
    except Exception:  # a broker outage: the source is due now, so the periodic task polls it within a minute
        logger.warning("Could not queue the poll of source %s", source_id, exc_info=True)


@transaction.atomic
def telematics_poll_request(*, actor: Actor, source: TelematicsSource, now: dt.datetime | None = None) -> TelematicsRun:
    """Poll a source now: a queued run, answered at once, and a task after commit. A run already queued or under
    way is answered instead of a second one (polls of one source never overlap). If the broker is down, the source
    is due now and the periodic task polls it."""
    actor.require_admin_of(source.organisation)
    now = now or timezone.now()
    TelematicsSource.objects.select_for_update().filter(pk=source.pk).first()
    pending = source.runs.filter(finished_at__isnull=True).order_by("-requested_at").first()
    if pending is not None and (pending.started_at is None or (source.claimed_until or now) > now):
        return pending
    run = TelematicsRun.objects.create(source=source, requested_at=now)
    TelematicsSource.objects.filter(pk=source.pk).update(next_poll_at=now)
    transaction.on_commit(partial(_queue_poll, source.pk, run.pk), robust=True)
    return run
