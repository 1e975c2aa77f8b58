"""API keys: created by admins and shown once, stored hashed, revocable, their last use recorded cheaply; the
create_api_key command; the portal page."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.actors import Actor
from accounts.models import ApiKey, ApiKeyRole
from accounts.services import api_key_authenticate, api_key_create, api_key_revoke
from hiboo_connect.errors import InvalidInput, NotAllowed
from tests.api.conftest import NOW


def test_a_key_is_shown_once_and_stored_hashed(owner_org, admin_actor):
    api_key, clear = api_key_create(actor=admin_actor, organisation=owner_org, name="ERP sync")

    stored = ApiKey.objects.get(pk=api_key.pk)
    assert clear.startswith(f"hck_{stored.prefix}_")
    assert clear.split("_", 2)[2] not in stored.secret_hash
    assert clear not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())
    assert stored.created_by == admin_actor.user
    assert stored.role == ApiKeyRole.ADMIN
    assert api_key_authenticate(token=clear) == stored


@pytest.mark.parametrize("actor_name", ["member_actor", "outsider", "api_key"])
def test_only_admins_of_the_organisation_create_keys(owner_org, outsider_admin, actor_name, request):
    if actor_name == "outsider":
        actor = Actor.for_user(outsider_admin)
    elif actor_name == "api_key":
        api_key, _ = api_key_create(actor=Actor.system(), organisation=owner_org, name="Viewer", role="viewer")
        actor = Actor.for_api_key(api_key)
    else:
        actor = request.getfixturevalue(actor_name)

    with pytest.raises(NotAllowed):
        api_key_create(actor=actor, organisation=owner_org, name="Mine")


@pytest.mark.parametrize(("name", "role"), [("", ApiKeyRole.ADMIN), ("x" * 101, ApiKeyRole.ADMIN), ("ok", "root")])
def test_a_key_needs_a_name_and_a_known_role(owner_org, admin_actor, name, role):
    with pytest.raises(InvalidInput):
        api_key_create(actor=admin_actor, organisation=owner_org, name=name, role=role)


def test_a_revoked_key_no_longer_authenticates(owner_org, admin_actor, outsider_admin, frozen):
    frozen(NOW)
    api_key, clear = api_key_create(actor=admin_actor, organisation=owner_org, name="ERP sync")

    with pytest.raises(NotAllowed):
        api_key_revoke(actor=Actor.for_user(outsider_admin), api_key=api_key)
    api_key_revoke(actor=admin_actor, api_key=api_key)

    assert api_key_authenticate(token=clear) is None
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == NOW


def test_the_last_use_is_written_at_most_once_a_minute(owner_org, admin_actor, frozen, django_assert_num_queries):
    frozen(NOW)
    api_key, clear = api_key_create(actor=admin_actor, organisation=owner_org, name="ERP sync")

    with django_assert_num_queries(2):  # read the key, record the first use
        api_key_authenticate(token=clear)
    frozen(NOW + dt.timedelta(seconds=59))
    with django_assert_num_queries(1):  # read only
        api_key_authenticate(token=clear)
    frozen(NOW + dt.timedelta(seconds=61))
    api_key_authenticate(token=clear)

    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == NOW + dt.timedelta(seconds=61)


def test_the_command_prints_a_new_key(owner_org):
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "create_api_key", organisation=owner_org.slug, name="Nightly export", role="viewer", stdout=out, stderr=err
    )

    clear = out.getvalue().strip()
    api_key = api_key_authenticate(token=clear)
    assert api_key is not None
    assert (api_key.organisation, api_key.name, api_key.role) == (owner_org, "Nightly export", ApiKeyRole.VIEWER)
    assert clear not in err.getvalue()


def test_the_command_refuses_an_unknown_organisation(owner_org):
    with pytest.raises(CommandError, match=owner_org.slug):
        call_command("create_api_key", organisation="nope", name="x", stdout=io.StringIO())


# --- the portal page -------------------------------------------------------------------------------------------------


def _logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_creates_a_key_and_sees_it_once(owner_admin, frozen):
    frozen(NOW)
    client = _logged_in(owner_admin)

    created = client.post("/accounts/api-keys/", {"name": "ERP sync", "role": "admin"})
    listed = client.get("/accounts/api-keys/")

    api_key = ApiKey.objects.get(organisation=owner_admin.organisation)
    page = created.content.decode()
    clear = page.split('id="new-api-key">')[1].split("<")[0]
    assert created.status_code == 201
    assert api_key_authenticate(token=clear) == api_key
    assert clear not in listed.content.decode()
    assert f"hck_{api_key.prefix}_" in listed.content.decode()


def test_the_list_shows_the_last_use(owner_admin, admin_api, frozen):
    frozen(NOW)
    admin_api.get("sharings")

    page = _logged_in(owner_admin).get("/accounts/api-keys/").content.decode()

    assert "ERP sync" in page
    assert "Never" not in page


def test_an_admin_revokes_a_key(owner_admin, admin_api, frozen):
    frozen(NOW)
    api_key = ApiKey.objects.get(organisation=owner_admin.organisation)

    response = _logged_in(owner_admin).post(f"/accounts/api-keys/{api_key.pk}/revoke/")

    assert response.status_code == 302
    assert admin_api.get("sharings").status_code == 401


def test_a_member_cannot_manage_keys(owner_member, admin_api):
    api_key = ApiKey.objects.get(organisation=owner_member.organisation)
    client = _logged_in(owner_member)

    assert client.get("/accounts/api-keys/").status_code == 403
    assert client.post("/accounts/api-keys/", {"name": "mine", "role": "admin"}).status_code == 403
    assert client.post(f"/accounts/api-keys/{api_key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_an_outsider_gets_404_for_another_organisations_key(outsider_admin, admin_api):
    api_key = ApiKey.objects.exclude(organisation=outsider_admin.organisation).get()

    response = _logged_in(outsider_admin).post(f"/accounts/api-keys/{api_key.pk}/revoke/")

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
