"""Requests for a later end (DESIGN §9): a beneficiary user or API key asks, the owner's admins are told and answer;
approving moves the end through the sharing's rules (an impossible one says why), declining sends a word back; both
sides see the conversation on the sharing's page, audited, as events, and nobody else sees any of it."""

import datetime as dt

import pytest
from django.test import Client

from accounts.actors import Actor
from audit.models import AuditEvent
from events.models import Event
from hiboo_connect.errors import InvalidInput, NotAllowed, RuleConflict
from outbox.email import message_email
from outbox.models import Message
from sharing.models import ExtensionRequest, ExtensionStatus
from sharing.services import (
    extension_request_approve,
    extension_request_create,
    extension_request_decline,
    sharing_create,
    sharing_stop,
)
from tests.api.conftest import ApiClient, new_api_key
from tests.factories import AdminFactory, MachineFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
END = NOW + 20 * DAY
LATER = END + 14 * DAY


@pytest.fixture
def sharing(frozen, admin_actor, owner_org, beneficiary_admin):
    frozen(NOW)
    AdminFactory(organisation=owner_org, email="second-admin@rentandgo.example")
    machine = MachineFactory(organisation=owner_org, make="CAT", model="320 GC", serial_number="CAT0320GCXYZ01234")
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=NOW + DAY,
        end_at=END,
        reference="LOC-881",
        properties={"site": "Lyon Part-Dieu"},
        now=NOW,
    )
    frozen(NOW + 5 * DAY)
    return sharing


@pytest.fixture
def asker(beneficiary_org):
    return UserFactory(organisation=beneficiary_org, email="site@buildco.example")


def ask(asker, sharing, end_at=LATER, message="Two more weeks, please."):
    return extension_request_create(actor=Actor.for_user(asker), sharing=sharing, end_at=end_at, message=message)


def test_a_beneficiary_user_asks_and_the_owners_admins_are_told(sharing, asker):
    extension, created = ask(asker, sharing)

    assert created
    assert (extension.status, extension.end_at, extension.previous_end_at) == ("pending", LATER, END)
    told = Message.objects.filter(kind="sharing_extension_requested")
    assert sorted(told.values_list("recipient", flat=True)) == [
        "admin@rentandgo.example",
        "second-admin@rentandgo.example",
    ]
    email = message_email(told.first())
    assert email.subject == "BuildCo asks to extend “LOC-881” to 4 Aug 2026"
    assert "Two more weeks, please." in email.body
    assert f"/sharings/{sharing.pk}/" in email.body
    assert AuditEvent.objects.filter(action="extension_requested", target_id=sharing.pk).count() == 1


def test_asking_twice_answers_the_pending_request(sharing, asker, beneficiary_admin):
    first, _created = ask(asker, sharing)

    again, created = ask(beneficiary_admin, sharing, end_at=LATER + DAY, message="Another")

    assert (again.pk, created) == (first.pk, False)
    assert ExtensionRequest.objects.count() == 1
    assert Message.objects.filter(kind="sharing_extension_requested").count() == 2


@pytest.mark.parametrize(
    ("end_at", "error", "code"),
    [
        (END, InvalidInput, "extension_not_later"),
        (END - DAY, InvalidInput, "extension_not_later"),
        (NOW, InvalidInput, "end_in_past"),
        (dt.datetime(2100, 1, 2, tzinfo=UTC), InvalidInput, "date_after_2099"),
        (None, InvalidInput, "end_required"),
    ],
)
def test_a_request_for_an_end_that_is_not_later_is_refused(sharing, asker, end_at, error, code):
    with pytest.raises(error) as refused:
        ask(asker, sharing, end_at=end_at)

    assert refused.value.code == code
    assert not ExtensionRequest.objects.exists()


def test_who_may_ask(sharing, admin_actor, outsider_admin, asker):
    with pytest.raises(RuleConflict) as owner_asks:
        extension_request_create(actor=admin_actor, sharing=sharing, end_at=LATER)
    assert owner_asks.value.code == "owner_moves_the_end"
    with pytest.raises(NotAllowed):
        ask(outsider_admin, sharing)
    with pytest.raises(InvalidInput):
        ask(asker, sharing, message="x" * 1001)


def test_an_open_ended_or_stopped_sharing_cannot_be_extended(sharing, asker, admin_actor):
    sharing_stop(actor=admin_actor, sharing=sharing)

    with pytest.raises(RuleConflict) as refused:
        ask(asker, sharing)
    assert refused.value.code == "sharing_ended"


def test_approving_moves_the_end_and_tells_the_beneficiary(sharing, asker, admin_actor, owner_member):
    extension, _created = ask(asker, sharing)
    with pytest.raises(NotAllowed):
        extension_request_approve(actor=Actor.for_user(owner_member), extension=extension)

    approved = extension_request_approve(actor=admin_actor, extension=extension)

    sharing.refresh_from_db()
    assert (approved.status, sharing.end_at) == ("approved", LATER)
    told = Message.objects.get(kind="sharing_extension_approved")
    assert told.recipient == "site@buildco.example"
    assert message_email(told).subject == "Rent & Go extended “LOC-881” to 4 Aug 2026"
    assert Message.objects.filter(kind="sharing_dates_changed").count() == 1  # the normal rules' e-mail too
    assert AuditEvent.objects.filter(action="extension_approved").count() == 1
    with pytest.raises(RuleConflict) as twice:
        extension_request_approve(actor=admin_actor, extension=approved)
    assert twice.value.code == "extension_answered"


def test_a_request_that_became_impossible_says_why_and_stays_pending(sharing, asker, admin_actor):
    extension, _created = ask(asker, sharing)
    sharing_stop(actor=admin_actor, sharing=sharing)

    with pytest.raises(RuleConflict) as refused:
        extension_request_approve(actor=admin_actor, extension=extension)

    assert refused.value.code == "sharing_ended"
    assert "has ended" in refused.value.message
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_declining_sends_the_word_back_in_the_askers_language(sharing, asker, admin_actor):
    asker.language = "fr"
    asker.save()
    extension, _created = ask(asker, sharing)

    declined = extension_request_decline(actor=admin_actor, extension=extension, message="The machine is booked.")

    sharing.refresh_from_db()
    assert (declined.status, declined.answer, sharing.end_at) == ("declined", "The machine is booked.", END)
    email = message_email(Message.objects.get(kind="sharing_extension_declined"))
    assert email.to == ["site@buildco.example"]
    assert email.subject == "Rent & Go a refusé de prolonger « LOC-881 »"
    assert "The machine is booked." in email.body
    assert "21 juil. 2026" in email.body


# --- events: each side sees the request, with the sharing as shown to it --------------------------------------------


def test_each_step_is_an_event_for_both_sides_and_nobody_else(sharing, asker, admin_actor, owner_org, outsider_org):
    extension, _created = ask(asker, sharing)
    extension_request_decline(actor=admin_actor, extension=extension, message="No")
    extension, _created = ask(asker, sharing)
    extension_request_approve(actor=admin_actor, extension=extension)

    types = ["extension.requested", "extension.declined", "extension.requested", "extension.approved"]
    for organisation in (owner_org, sharing.beneficiary):
        events = Event.objects.filter(organisation=organisation, type__startswith="extension.").order_by("sequence")
        assert [event.type for event in events] == types
        last = events.last().data
        assert (last["status"], last["sharingId"], last["sharing"]["id"]) == (
            "approved",
            str(sharing.pk),
            str(sharing.pk),
        )
    assert not Event.objects.filter(organisation=outsider_org).exists()


# --- the API ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def beneficiary_key(beneficiary_org):
    return ApiClient(new_api_key(beneficiary_org, "BuildCo ERP")[1], Client())


@pytest.fixture
def owner_key(owner_org):
    return ApiClient(new_api_key(owner_org, "ERP sync")[1], Client())


def test_the_api_journey_ask_list_and_approve(sharing, beneficiary_key, owner_key, beneficiary_admin):
    body = {"endDate": "2026-08-15T10:00:00+02:00", "message": "Two more weeks."}
    asked = beneficiary_key.post(f"sharings/{sharing.pk}/extension-requests", body)
    assert asked.status_code == 201, asked.content
    request = asked.json()["data"]
    assert (request["status"], request["endDate"], request["requestedBy"]) == (
        "pending",
        "2026-08-15T08:00:00Z",
        "API key BuildCo ERP",
    )
    again = beneficiary_key.post(f"sharings/{sharing.pk}/extension-requests", body)
    assert (again.status_code, again.json()["data"]["id"]) == (200, request["id"])

    pending = owner_key.get("extension-requests", {"status": "pending", "direction": "outgoing"}).json()["data"]
    assert [row["id"] for row in pending["rows"]] == [request["id"]]
    assert beneficiary_key.get("extension-requests", {"direction": "outgoing"}).json()["data"]["total"] == 0

    assert beneficiary_key.post(f"extension-requests/{request['id']}/approve").status_code == 403
    approved = owner_key.post(f"extension-requests/{request['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["data"]["sharing"]["endDate"] == "2026-08-15T08:00:00Z"
    assert Message.objects.get(kind="sharing_extension_approved").recipient == beneficiary_admin.email  # a key asked
    conflict = owner_key.post(f"extension-requests/{request['id']}/decline", {"message": "late"})
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "extension_answered")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"endDate": "2026-07-10T08:00:00Z"}, 400, "endDate"),
        ({"endDate": "tomorrow"}, 400, "endDate"),
        ({}, 400, "endDate"),
        ({"endDate": "2026-08-15T08:00:00Z", "message": "x" * 1001}, 400, "message"),
        ({"endDate": "2026-08-15T08:00:00Z", "extra": 1}, 400, "extra"),
    ],
)
def test_the_api_refuses_bad_requests_next_to_the_field(sharing, beneficiary_key, body, status, field):
    response = beneficiary_key.post(f"sharings/{sharing.pk}/extension-requests", body)

    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]
    assert not ExtensionRequest.objects.exists()


def test_the_owners_other_data_never_reaches_the_beneficiary_nor_anything_an_outsider(
    sharing, asker, admin_actor, beneficiary_key, owner_key, outsider_admin
):
    other = sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=sharing.owner).pk],
        recipient_email=outsider_admin.email,
        start_at=NOW + 6 * DAY,
        end_at=END,
        reference="OTHER-CUSTOMER",
    )[0]
    outsiders_request, _created = ask(outsider_admin, other)
    ours, _created = ask(asker, sharing)
    outsider_key = ApiClient(new_api_key(outsider_admin.organisation, "Quarry")[1], Client())

    seen = beneficiary_key.get("extension-requests").json()["data"]
    assert [row["id"] for row in seen["rows"]] == [str(ours.pk)]
    assert "OTHER-CUSTOMER" not in str(seen)
    assert len(owner_key.get("extension-requests").json()["data"]["rows"]) == 2
    for path in (
        f"extension-requests/{outsiders_request.pk}/approve",
        f"extension-requests/{outsiders_request.pk}/decline",
    ):
        assert beneficiary_key.post(path).status_code == 404
    assert (
        outsider_key.post(f"sharings/{sharing.pk}/extension-requests", {"endDate": "2026-08-15T08:00:00Z"}).status_code
        == 404
    )
    assert outsider_key.post(f"extension-requests/{ours.pk}/decline").status_code == 404
    assert outsider_key.get("extension-requests", {"sharingId": str(sharing.pk)}).json()["data"]["total"] == 0


# --- the portal -------------------------------------------------------------------------------------------------------


def test_the_portal_journey_on_both_sides_pages(client, sharing, asker, owner_admin, owner_member):
    client.force_login(asker)
    page = client.get(f"/sharings/{sharing.pk}/").content.decode()
    assert "Ask for a later end" in page
    refused = client.post(f"/sharings/{sharing.pk}/extension/", {"extension-end_at": "2026-07-15T10:00"})
    assert refused.status_code == 400
    assert "Ask for an end later than the current one." in refused.content.decode()
    asked = client.post(
        f"/sharings/{sharing.pk}/extension/", {"extension-end_at": "2026-08-15T10:00", "extension-message": "Please"}
    )
    assert asked.status_code == 302
    page = client.get(f"/sharings/{sharing.pk}/").content.decode()
    assert "Waiting for the owner" in page
    assert "Ask for a later end" not in page

    client.force_login(owner_member)
    assert "request for a later end waits" not in client.get("/").content.decode()  # members do not answer
    assert client.post(f"/sharings/extensions/{ExtensionRequest.objects.get().pk}/approve/").status_code == 403

    client.force_login(owner_admin)
    assert "1</span> request for a later end waits for your answer" in client.get("/").content.decode()
    page = client.get(f"/sharings/{sharing.pk}/").content.decode()
    assert "Approve the new end" in page
    assert "Please" in page
    extension = ExtensionRequest.objects.get()
    assert client.post(f"/sharings/extensions/{extension.pk}/approve/").status_code == 302
    sharing.refresh_from_db()
    assert sharing.end_at == dt.datetime(2026, 8, 15, 8, 0, tzinfo=UTC)
    assert "request for a later end waits" not in client.get("/").content.decode()
    page = client.get(f"/sharings/{sharing.pk}/").content.decode()
    assert "Approved" in page
    assert "Later end approved" in page


def test_the_portal_shows_why_an_approval_is_impossible(client, sharing, asker, owner_admin, admin_actor):
    extension, _created = ask(asker, sharing)
    sharing_stop(actor=admin_actor, sharing=sharing)
    client.force_login(owner_admin)

    response = client.post(f"/sharings/extensions/{extension.pk}/approve/")

    assert response.status_code == 409
    assert "This sharing has ended" in response.content.decode()


def test_site_staff_read_the_requests_in_the_django_admin_and_change_none(
    sharing, asker, django_assert_max_num_queries
):
    request, _created = ask(asker, sharing)
    staff = UserFactory(email="staff@sharecentre.example", organisation=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    with django_assert_max_num_queries(8):  # the session, the user, the count, the page with its sharings
        listed = client.get("/admin/sharing/extensionrequest/?status__exact=pending&q=LOC-881")
    shown = client.get(f"/admin/sharing/extensionrequest/{request.pk}/change/")
    deleted = client.post(f"/admin/sharing/extensionrequest/{request.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert "LOC-881" in listed.content.decode()
    assert asker.email in listed.content.decode()
    assert shown.status_code == 200
    assert "Two more weeks, please." in shown.content.decode()
    page = shown.content.decode()
    assert 'id="extensionrequest_form"' in page
    assert 'type="submit"' not in page.split('id="extensionrequest_form"')[1].split("</form>")[0]  # read only
    assert deleted.status_code == 403
    assert ExtensionRequest.objects.filter(pk=request.pk, status=ExtensionStatus.PENDING).exists()
