"""Dates bounded at 31 December 2099 (issue 9, item 1; DESIGN §3): the rules refuse a later start or end on every
path, and a far-future date already stored breaks no page, timeline, export or e-mail of either organisation (in
Europe/Paris, 9999-12-31T23:30Z is past the last day Python can hold)."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import ApiKeyRole
from hiboo_connect.errors import InvalidInput
from outbox.email import message_email
from sharing import messages
from sharing.lifecycle import SharingStatus, creation_dates_refusal, end_change_refusal, start_change_refusal
from sharing.models import Sharing
from sharing.services import sharing_create, sharing_update
from tests.api.conftest import new_api_key
from tests.factories import MachineFactory, SharingFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
FAR = dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
LAST_MOMENT = dt.datetime(2099, 12, 31, 23, 59, tzinfo=UTC)
FIRST_TOO_LATE = dt.datetime(2100, 1, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


# --- the rules ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_at", "end_at", "field"),
    [
        (NOW, FIRST_TOO_LATE, "end_at"),
        (NOW, FAR, "end_at"),
        (FIRST_TOO_LATE, None, "start_at"),
        (FAR, None, "start_at"),
    ],
)
def test_creation_refuses_a_date_after_2099_naming_the_field(start_at, end_at, field):
    refusal = creation_dates_refusal(start_at=start_at, end_at=end_at, now=NOW)
    assert (refusal.code, refusal.field) == ("date_after_2099", field)


def test_the_last_day_of_2099_is_accepted():
    assert creation_dates_refusal(start_at=NOW, end_at=LAST_MOMENT, now=NOW) is None


def test_the_day_is_read_in_the_time_zone_it_was_given_in():
    new_york_new_years_eve = dt.datetime(2099, 12, 31, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert creation_dates_refusal(start_at=NOW, end_at=new_york_new_years_eve, now=NOW) is None


def test_changing_a_date_to_after_2099_is_refused():
    start = start_change_refusal(
        status=SharingStatus.SCHEDULED, current_start=NOW + dt.timedelta(days=1), new_start=FAR, end_at=None, now=NOW
    )
    end = end_change_refusal(status=SharingStatus.SCHEDULED, current_end=None, new_end=FAR, start_at=NOW, now=NOW)
    assert (start.code, start.field, end.code, end.field) == (
        "date_after_2099",
        "start_at",
        "date_after_2099",
        "end_at",
    )


def test_the_service_refuses_a_far_end_on_create(now, admin_actor, machine, beneficiary_admin):
    with pytest.raises(InvalidInput) as refused:
        sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk],
            recipient_email=beneficiary_admin.email,
            start_at=NOW,
            end_at=FAR,
        )
    assert (refused.value.code, refused.value.field) == ("date_after_2099", "end_at")
    assert not Sharing.objects.exists()


def test_the_service_refuses_a_far_end_on_update(now, admin_actor, machine, beneficiary_admin):
    (sharing,) = sharing_create(
        actor=admin_actor, machine_ids=[machine.pk], recipient_email=beneficiary_admin.email, start_at=NOW
    )
    with pytest.raises(InvalidInput) as refused:
        sharing_update(actor=admin_actor, sharing=sharing, changes={"end_at": FAR})
    assert refused.value.field == "end_at"


def test_the_api_answers_400_naming_the_field(now, client, owner_org, machine, beneficiary_admin):
    _key, secret = new_api_key(owner_org, "ci")
    response = client.post(
        "/api/v1/sharings",
        {
            "assetIds": [str(machine.pk)],
            "recipient": beneficiary_admin.email,
            "startDate": "2026-07-13T00:00:00Z",
            "endDate": "9999-12-31T23:30:00Z",
        },
        content_type="application/json",
        HTTP_X_ACCESS_TOKEN=secret,
    )
    assert response.status_code == 400
    assert "endDate" in response.json()["error"]["fields"]


def test_the_portal_form_shows_the_refusal_on_the_end_field(now, client, owner_admin, machine, beneficiary_admin):
    client.force_login(owner_admin)
    response = client.post(
        reverse("sharing:create"),
        {
            "machines": [str(machine.pk)],
            "recipient_email": beneficiary_admin.email,
            "start_at": "2026-07-13T08:00",
            "end_at": "2100-01-01T08:00",
            "data_packs": ["essential"],
            "notification_enabled": "on",
        },
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["end_at"]
    assert "31 December 2099" in response.content.decode()
    assert not Sharing.objects.exists()


# --- a far-future date already stored breaks nothing ------------------------------------------------------------


@pytest.fixture
def far_sharing(now, owner_org, beneficiary_org, machine):
    """Stored before the rule existed (written directly, past the services)."""
    return SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[machine],
        start_at=NOW - dt.timedelta(days=1),
        end_at=FAR,
    )


@pytest.fixture
def far_pending(now, owner_org, machine):
    return SharingFactory(owner=owner_org, beneficiary=None, machines=[machine], start_at=FAR)


def beneficiary_urls(sharing):
    return [
        "/?direction=incoming",
        "/?direction=incoming&view=timeline",
        "/sharings/export.csv?direction=incoming",
        reverse("sharing:detail", args=[sharing.pk]),
        reverse("fleet:machine", args=[sharing.machines.get().pk]),
        reverse("fleet:machines"),
    ]


def owner_urls(sharing):
    return [
        "/",
        "/?view=timeline",
        "/sharings/export.csv",
        reverse("sharing:detail", args=[sharing.pk]),
        reverse("sharing:edit", args=[sharing.pk]),
        reverse("fleet:machine", args=[sharing.machines.get().pk]),
        reverse("fleet:machines"),
    ]


def test_the_beneficiary_sees_every_page_of_a_far_future_sharing(
    client, far_sharing, beneficiary_org, beneficiary_admin
):
    for user in (UserFactory(organisation=beneficiary_org), beneficiary_admin):
        client.force_login(user)
        for url in beneficiary_urls(far_sharing):
            assert client.get(url).status_code == 200, url


def test_the_owner_sees_every_page_of_a_far_future_sharing(client, far_sharing, owner_admin, owner_member):
    for user in (owner_admin, owner_member):
        client.force_login(user)
        for url in owner_urls(far_sharing):
            assert client.get(url).status_code in (200, 403), url


def test_the_owner_sees_every_page_of_a_pending_sharing_starting_far_ahead(client, far_pending, owner_admin):
    client.force_login(owner_admin)
    for url in owner_urls(far_pending):
        assert client.get(url).status_code == 200, url


def test_the_beneficiary_can_still_remove_the_far_future_sharing_s_machine_page(client, far_sharing, beneficiary_org):
    client.force_login(UserFactory(organisation=beneficiary_org))
    response = client.get(reverse("fleet:machine", args=[far_sharing.machines.get().pk]))
    assert response.status_code == 200


def test_the_notifications_of_a_far_future_sharing_render_in_paris(far_sharing, far_pending):
    for sharing in (far_sharing, far_pending):
        message = messages.notify_sharing_created(Sharing.objects.get(pk=sharing.pk))
        email = message_email(message)
        assert "9999" in email.body


def test_the_owner_api_lists_the_far_future_sharing(now, client, far_sharing, owner_org):
    _key, secret = new_api_key(owner_org, "ci", ApiKeyRole.VIEWER)
    response = client.get("/api/v1/sharings", HTTP_X_ACCESS_TOKEN=secret)
    assert response.status_code == 200


def test_another_machine_of_the_owner_is_unaffected(client, far_sharing, owner_admin, owner_org):
    other = MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    assert client.get(reverse("fleet:machine", args=[other.pk])).status_code == 200


def test_a_message_queued_with_a_far_date_before_the_rule_still_renders(far_sharing):
    message = messages.notify_sharing_created(Sharing.objects.get(pk=far_sharing.pk))
    message.context = {**message.context, "end_at": "9999-12-31T23:30:00+00:00"}  # as the old code captured it
    message.save(update_fields=["context"])
    assert "9999" in message_email(message).body
