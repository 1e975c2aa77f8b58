"""Every URL pattern of the project, walked from the root resolver (the API included): a visitor is sent to the login
page (the API answers 401 in JSON), and another organisation gets a 404 for every URL that names one of our objects,
while the organisation that holds it does not. A pattern missing from the table below fails the suite, so a new page
cannot forget either.

The Django admin is covered as a whole: it has its own staff login, which no organisation user passes."""

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib import admin
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import ApiKeyRole, Role
from accounts.services import colleague_invite
from contracts.models import Contract
from events.services import webhook_endpoint_create
from outbox.models import Message, MessageStatus
from sharing.messages import SharingMessage
from sharing.models import ExtensionRequest
from telematics.services import SourceAuth, telematics_source_create
from tests.api.conftest import new_api_key
from tests.factories import ContactFactory, MachineFactory, SharingFactory, WorkspaceFactory


@dataclass(frozen=True)
class Public:
    """Open to visitors; says why."""

    reason: str


@dataclass(frozen=True)
class Portal:
    """A page for logged-in users; `kind` names the object its URL points at, if any."""

    kind: str | None = None


@dataclass(frozen=True)
class Api:
    """An endpoint of the API (an API key is needed); `kind` names the object its URL points at, if any."""

    kind: str | None = None


# Every pattern, by its name (or its route when it has none). Object kinds are the keys of `world` below.
URLS = {
    "home": Public("the landing page for visitors (the share centre once logged in)"),
    "set_language": Public("Django's language switch: the landing and login pages offer it"),
    # The share centre
    "sharing:export": Portal(),
    "sharing:create": Portal(),
    "sharing:create_machines": Portal(),
    "sharing:create_overlaps": Portal(),
    "sharing:contact_suggestions": Portal(),
    "sharing:contact_pick": Portal("contact"),
    "sharing:contacts": Portal(),
    "sharing:contact_edit": Portal("contact"),
    "sharing:contact_remove": Portal("contact"),
    "sharing:notifications_failed": Portal(),
    "sharing:notification_retry": Portal("notification"),
    "sharing:detail": Portal("sharing"),
    "sharing:edit": Portal("sharing"),
    "sharing:stop": Portal("sharing"),
    "sharing:delete": Portal("sharing"),
    "sharing:extension_request": Portal("sharing"),
    "sharing:extension_approve": Portal("extension request"),
    "sharing:extension_decline": Portal("extension request"),
    # Contracts (the portal names a contract by its id: a reference may be any text)
    "contracts:list": Portal(),
    "contracts:import": Portal(),
    "contracts:import_template": Portal(),
    "contracts:detail": Portal("contract page"),
    "contracts:extend": Portal("contract page"),
    "contracts:complete": Portal("contract page"),
    "contracts:add": Portal("contract page"),
    "contracts:swap": Portal("contract page"),
    # The fleet
    "fleet:machines": Portal(),
    "fleet:map": Portal(),
    "fleet:machine": Portal("machine"),
    "fleet:machine_export": Portal("machine"),
    "received:row": Portal("received machine"),
    "received:edit": Portal("received machine"),
    "fleet:own_row": Portal("machine"),
    "fleet:own_workspaces": Portal("machine"),
    "fleet:workspaces": Portal(),
    "fleet:workspace_create": Portal(),
    "fleet:workspace_rename": Portal("workspace"),
    "fleet:workspace_delete": Portal("workspace"),
    # Telematics sources
    "telematics:sources": Portal(),
    "telematics:source_create": Portal(),
    "telematics:source_edit": Portal("telematics source"),
    "telematics:source_delete": Portal("telematics source"),
    "telematics:source_poll": Portal("telematics source"),
    # The organisation
    "accounts:organisation_create": Portal(),
    "accounts:organisation_settings": Portal(),
    "accounts:members": Portal(),
    "accounts:colleague_invite": Portal(),
    "accounts:member_role": Portal("member"),
    "accounts:member_remove": Portal("member"),
    "accounts:invitation_revoke": Portal("invitation"),
    "accounts:invitation_accept": Public("the invitation e-mail's link: the token is the secret; a visitor signs up"),
    "accounts:api_keys": Portal(),
    "accounts:api_key_revoke": Portal("API key"),
    # django-allauth: the way in, and the account's own pages
    "account_login": Public("the login page"),
    "account_logout": Public("logging out needs no account"),
    "account_signup": Public("the sign-up page"),
    "account_inactive": Public("tells a visitor their account is inactive"),
    "account_email_verification_sent": Public("shown after sign-up, before the e-mail is confirmed"),
    "account_confirm_email": Public("the confirmation e-mail's link: the key is the secret"),
    "account_confirm_login_code": Public("a step of logging in by code; without one under way, back to the login"),
    "account_reset_password": Public("asks for a password reset"),
    "account_reset_password_done": Public("says the reset e-mail is on its way"),
    "account_reset_password_from_key": Public("the reset e-mail's link: the key is the secret"),
    "account_reset_password_from_key_done": Public("says the password was changed"),
    "account_email": Portal(),
    "account_change_password": Portal(),
    "account_set_password": Portal(),
    "account_reauthenticate": Portal(),
    # The API
    "api:sharings": Api(),
    "api:sharing": Api("sharing"),
    "api:sharing-stop": Api("sharing"),
    "api:sharing-extension-requests": Api("sharing"),
    "api:extension-requests": Api(),
    "api:extension-request-approve": Api("extension request"),
    "api:extension-request-decline": Api("extension request"),
    "api:assets": Api(),
    "api:asset-readings": Api("machine"),
    "api:received-assets": Api(),
    "api:received-asset": Api("received asset"),
    "api:workspaces": Api(),
    "api:readings": Api(),
    "api:telematics-sources": Api(),
    "api:telematics-source": Api("telematics source"),
    "api:telematics-source-poll": Api("telematics source"),
    "api:events": Api(),
    "api:contracts": Api(),
    "api:contract": Api("contract"),
    "api:contracts-import": Api(),
    "api:contracts-import-template": Api(),
    "api:aemp:fleet": Api(),
    "api:aemp:equipment": Api("machine"),
    "api:aemp:time-series": Api("machine"),
    "api:webhooks": Api(),
    "api:webhook": Api("webhook"),
    "api:webhook-rotate-secret": Api("webhook"),
    "api:webhook-deliveries": Api("webhook"),
    "api:webhook-redeliver": Api("webhook"),
    # Webhooks
    "events:webhooks": Portal(),
    "events:webhook": Portal("webhook"),
    "events:webhook_rotate": Portal("webhook"),
    "events:webhook_toggle": Portal("webhook"),
    "events:webhook_delete": Portal("webhook"),
    "events:webhook_redeliver": Portal("webhook"),
    "api:schema": Public("the API's OpenAPI schema: how to call it, no data"),
    "api:docs": Public("the API's documentation"),
    r"api/^[\s\S]*$": Public("the JSON 404 of unknown API paths"),
}
ADMIN_PUBLIC = {
    "admin:login": "the admin's own login page",
    "admin:logout": "logging out of the admin",
}

LOGIN_PAGE = resolve_url(settings.LOGIN_URL)
PORTAL_METHODS = ("get", "post")
API_METHODS = ("get", "post", "patch", "delete")
# Values tried, in order, for a URL argument that names no object (a token, a key, an admin app label...).
SAMPLE_VALUES = ("1", "x", "auth", "00000000-0000-4000-8000-000000000000")
#: Arguments that name no object but need a meaningful value (the ISO feed's time series: element, period, page).
PLAIN_ARGUMENTS = {"page": "1", "element": "Locations", "start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}


@dataclass(frozen=True)
class Route:
    key: str  # the table's key: "namespace:name", or the route of an unnamed pattern
    route: str
    namespace: str
    levels: tuple  # the patterns from the root resolver down to this one
    pattern: URLPattern


def walk(resolver=None, levels=(), namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from walk(entry, (*levels, entry.pattern), inner)
        else:
            route = "".join(str(level) for level in (*levels, entry.pattern))
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name or route, route, namespace, (*levels, entry.pattern), entry)


ROUTES = list(walk())


def _chosen_value(names: list[str], chosen: tuple[str, ...], match: re.Match) -> str:
    return chosen[names.index(match[1])]


def _level_path(pattern, values: dict) -> str:
    """The path of one level of a pattern, its arguments filled in from `values` (or from SAMPLE_VALUES)."""
    text = str(pattern)
    if isinstance(pattern, RoutePattern):  # a route: "sharings/<uuid:sharing_id>/"

        def sample(match):
            converter = pattern.converters[match[1]]
            return (
                values.get(match[1])
                or PLAIN_ARGUMENTS.get(match[1])
                or next(v for v in SAMPLE_VALUES if re.fullmatch(converter.regex, v))
            )

        return re.sub(r"<(?:\w+:)?(\w+)>", sample, text)
    regex = pattern.regex
    names = list(regex.groupindex)
    named_group = r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)"
    for chosen in itertools.product(*[[values[name]] if name in values else SAMPLE_VALUES for name in names]):
        path = re.sub(named_group, partial(_chosen_value, names, chosen), text)
        path = path.removeprefix("^").removesuffix("$")
        if regex.fullmatch(path):
            return path
    if regex.fullmatch("x"):  # an unnamed catch-all such as "[\s\S]*"
        return "x"
    raise AssertionError(f"no sample path for {text!r}")


def path_of(route: Route, values: dict) -> str:
    """A concrete path that resolves to `route`, checked."""
    path = "/" + "".join(_level_path(level, values) for level in route.levels)
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    message = f"the sample path {path} does not reach {route.route}: give this pattern a sample in {__name__}"
    assert match is not None, message
    assert match.func is route.pattern.callback, message
    return path


@dataclass
class World:
    """One object of each kind, the organisation user and API key that hold it, and an outsider's."""

    objects: dict  # kind → (primary key, holder user, holder API key)
    outsider: object
    outsider_key: str


@pytest.fixture
def world(owner_org, owner_admin, beneficiary_admin, outsider_admin, owner_member):
    owner_key = new_api_key(owner_org, "ERP")[1]
    beneficiary_key = new_api_key(beneficiary_admin.organisation, "ERP")[1]
    machine = MachineFactory(organisation=owner_org)
    sharing = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_admin.organisation,
        recipient_email=beneficiary_admin.email,
        machines=[machine],
    )
    received = sharing.beneficiary.received_machines.get(machine=machine)
    notification = Message.objects.create(
        key=f"sharing:{sharing.pk}:test:{beneficiary_admin.email}",
        organisation=owner_org,
        subject_type="sharing",
        subject_id=sharing.pk,
        kind=SharingMessage.STARTED,
        recipient=beneficiary_admin.email,
        language="en",
        time_zone="Europe/Paris",
        status=MessageStatus.FAILED,
        attempts=8,
        next_attempt_at=timezone.now(),
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    api_key = new_api_key(owner_org, "BI", ApiKeyRole.VIEWER)[0]
    invitation = colleague_invite(actor=Actor.for_user(owner_admin), email="new@rentandgo.example", role=Role.MEMBER)
    telematics_source = telematics_source_create(
        actor=Actor.for_user(owner_admin),
        name="VisionLink",
        base_url="https://127.0.0.1:9/aemp/v2",
        auth=SourceAuth(type="header", header_name="X-Key", secret="k"),
    )
    contract = Contract.objects.create(owner=owner_org, reference="CTR/2026/0042")
    webhook, _secret = webhook_endpoint_create(
        actor=Actor.for_user(owner_admin), url="https://127.0.0.1:9/hooks", event_types=["sharing.started"]
    )
    extension = ExtensionRequest.objects.create(
        sharing=sharing,
        end_at=timezone.now() + dt.timedelta(days=30),
        previous_end_at=timezone.now() + dt.timedelta(days=2),
        requested_by_label=beneficiary_admin.email,
        created_at=timezone.now(),
    )
    owner = (owner_admin, owner_key)
    objects = {
        "extension request": (extension.pk, *owner),
        "sharing": (sharing.pk, *owner),
        "machine": (machine.pk, *owner),
        "received machine": (received.pk, beneficiary_admin, beneficiary_key),
        "received asset": (machine.pk, beneficiary_admin, beneficiary_key),  # the API names it by the machine's id
        "workspace": (WorkspaceFactory(organisation=owner_org).pk, *owner),
        "contact": (ContactFactory(organisation=owner_org).pk, *owner),
        "notification": (notification.pk, *owner),
        "API key": (api_key.pk, *owner),
        "invitation": (invitation.pk, *owner),
        "member": (owner_member.pk, *owner),
        "telematics source": (telematics_source.pk, *owner),
        "contract": (contract.reference, *owner),  # the API names a contract by its reference
        "contract page": (contract.pk, *owner),
        "webhook": (webhook.pk, *owner),
    }
    return World(objects, outsider_admin, new_api_key(outsider_admin.organisation, "ERP")[1])


def _client(user=None, key=None) -> Client:
    client = Client(headers={"x-access-token": key} if key else {})
    if user is not None:
        client.force_login(user)
    return client


def _call(client, method, path):
    return getattr(client, method)(path, content_type="application/json") if method != "get" else client.get(path)


def _argument(route: Route) -> str | None:
    names = [name for level in route.levels for name in level.regex.groupindex if name not in PLAIN_ARGUMENTS]
    assert len(names) <= 1, f"{route.route} takes {names}: teach this test which object each one names"
    return names[0] if names else None


def _statuses(client, methods, path):
    return {method: _call(client, method, path) for method in methods}


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlparse(response["Location"]).path == LOGIN_PAGE


def _is_json(response, status) -> bool:
    return response.status_code == status and response["Content-Type"].startswith("application/json")


def _summary(responses) -> dict:
    return {method: response.status_code for method, response in responses.items()}


@pytest.mark.parametrize("route", [route for route in ROUTES if route.namespace != "admin"], ids=lambda r: r.key)
def test_visitors_log_in_and_other_organisations_get_404(route, world):
    rule = URLS.get(route.key)
    if rule is None:
        pytest.fail(
            f"new URL pattern {route.route} ({route.key}): add it to the table URLS in {__name__} — Public with a "
            f"reason, Portal or Api, with the kind of object its URL names"
        )
    if isinstance(rule, Public):
        path = path_of(route, {})
        response = _client().get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        return

    argument, kind = _argument(route), rule.kind
    assert (argument is None) == (kind is None), (
        f"{route.route} takes {argument!r} but the table names {kind!r} as its object: they must agree"
    )
    if kind is not None:
        pk, holder, holder_key = world.objects[kind]
        path = path_of(route, {argument: str(pk)})
    else:
        path = path_of(route, {})

    if isinstance(rule, Portal):
        anonymous = _statuses(_client(), PORTAL_METHODS, path)
        message = f"{path} for a visitor: {_summary(anonymous)}, not the login page"
        assert all(_is_login_redirect(r) or r.status_code == 405 for r in anonymous.values()), message
        assert any(_is_login_redirect(r) for r in anonymous.values()), message
        if kind is None:
            return
        outsider = _statuses(_client(world.outsider), PORTAL_METHODS, path)
        holder_client, methods = _client(holder), PORTAL_METHODS
    else:
        anonymous = _statuses(_client(), API_METHODS, path)
        assert all(_is_json(r, 401) for r in anonymous.values()), f"{path} with no key: {_summary(anonymous)}, not 401"
        if kind is None:
            return
        outsider = _statuses(_client(key=world.outsider_key), API_METHODS, path)
        holder_client, methods = _client(key=holder_key), API_METHODS

    # Another organisation: a 404 (405 for a method the URL never takes); the object's holder gets further.
    message = f"{path}, the {kind} of another organisation: {_summary(outsider)}, not 404"
    assert all(r.status_code in (404, 405) for r in outsider.values()), message
    assert any(r.status_code == 404 for r in outsider.values()), message
    if isinstance(rule, Api):
        assert all(_is_json(r, 404) for r in outsider.values() if r.status_code == 404)
    for method in methods:
        response = _call(holder_client, method, path)
        if response.status_code != 405:
            assert response.status_code != 404, f"{method.upper()} {path} by the holder of the {kind}: 404"
            break
    else:
        pytest.fail(f"{path} takes none of {methods}")


def test_the_table_names_only_existing_patterns():
    keys = {route.key for route in ROUTES}
    assert sorted(set(URLS) - keys) == [], "these patterns no longer exist: remove them from the table"


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(owner_admin):
    """Every admin page sends visitors and organisation users (admins of their organisation, not staff) to the admin's
    login; only that login and the logout are open."""
    login_page = reverse("admin:login")
    routes = [route for route in ROUTES if route.namespace == "admin"]
    assert {route.key for route in routes} >= set(ADMIN_PUBLIC)
    assert len(routes) > len(admin.site._registry) * 5
    for route in routes:
        path = path_of(route, {})
        for client in (_client(), _client(owner_admin)):
            response = client.get(path)
            if route.key in ADMIN_PUBLIC:
                assert response.status_code < 500, f"{path}: {response.status_code}"
            else:
                assert response.status_code == 302, f"{path}: {response.status_code}"
                assert urlparse(response["Location"]).path == login_page, f"{path} → {response['Location']}"
