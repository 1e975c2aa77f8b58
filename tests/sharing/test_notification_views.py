"""The failed-notifications page and its Retry action (issue 4): admins of the owner only, members 403, other
organisations 404, anonymous to the login; retried in place with htmx through notification_retry; the share centre's
discreet link to it, shown to admins when something failed, at a constant number of queries."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.emails import COLLEAGUE_INVITATION
from accounts.models import ColleagueInvitation
from outbox.models import Message, MessageStatus
from sharing.messages import SharingMessage
from tests.factories import SharingFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST_URL = "/sharings/notifications/failed/"


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


def make_notification(sharing, *, status=MessageStatus.FAILED, index=0, **fields):
    values = {
        "key": f"sharing:{sharing.pk}:test:{index}",
        "organisation": sharing.owner,
        "subject_type": "sharing",
        "subject_id": sharing.pk,
        "kind": SharingMessage.CREATED,
        "recipient": "site@buildco.example",
        "language": "en",
        "time_zone": "Europe/Paris",
        "status": status,
        "attempts": 8 if status == MessageStatus.FAILED else 0,
        "last_error": "SMTPRecipientsRefused: 550 mailbox unavailable" if status == MessageStatus.FAILED else "",
        "next_attempt_at": NOW,
        "created_at": NOW - dt.timedelta(hours=2, minutes=index),
    }
    values.update(fields)
    return Message.objects.create(**values)


@pytest.fixture
def sharing(now, owner_org, beneficiary_org):
    return SharingFactory(owner=owner_org, beneficiary=beneficiary_org, reference="CTR-MAIL")


@pytest.fixture
def failed(sharing):
    return make_notification(sharing)


def retry_url(notification):
    return reverse("sharing:notification_retry", args=[notification.pk])


# --- who may see and retry -------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login(client, failed):
    for response in (client.get(LIST_URL), client.post(retry_url(failed))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_members_get_403(client, owner_member, failed):
    client.force_login(owner_member)
    assert client.get(LIST_URL).status_code == 403
    assert client.post(retry_url(failed), **HTMX).status_code == 403
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_other_organisations_see_none_of_ours_and_get_404_on_retry(client, outsider_admin, beneficiary_admin, failed):
    for admin in (outsider_admin, beneficiary_admin):  # the beneficiary of the sharing too: the outbox is the owner's
        client.force_login(admin)
        response = client.get(LIST_URL)
        assert response.status_code == 200
        assert b"CTR-MAIL" not in response.content
        assert b"Every notification was delivered" in response.content
        assert client.post(retry_url(failed), **HTMX).status_code == 404
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_retry_accepts_only_post(client, owner_admin, failed):
    client.force_login(owner_admin)
    assert client.get(retry_url(failed)).status_code == 405


# --- the list --------------------------------------------------------------------------------------------------------


def test_admin_sees_the_failed_notifications_only(client, owner_admin, sharing, failed):
    make_notification(sharing, status=MessageStatus.PENDING, index=1, recipient="pending@example.org")
    make_notification(sharing, status=MessageStatus.SENT, index=2, recipient="sent@example.org")
    client.force_login(owner_admin)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert list(response.context["notifications"]) == [failed]
    assert "CTR-MAIL" in content
    assert reverse("sharing:detail", args=[sharing.pk]) in content
    assert "site@buildco.example" in content
    assert "Sharing created" in content  # the kind of message
    assert "550 mailbox unavailable" in content
    assert "12 Jul 2026" in content
    assert "09:00" in content
    assert f'hx-post="{retry_url(failed)}"' in content
    assert "pending@example.org" not in content
    assert "sent@example.org" not in content


def test_empty_state(client, owner_admin, now):
    client.force_login(owner_admin)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert b"Every notification was delivered" in response.content
    assert b"<table" not in response.content


@pytest.mark.parametrize("count", [3, 30])
def test_list_query_count_does_not_grow_with_the_failures(client, django_assert_num_queries, owner_admin, now, count):
    for index in range(count):
        make_notification(SharingFactory(owner=owner_admin.organisation, reference=f"CTR-{index}"), index=index)
        failed_invitation_email(owner_admin.organisation, index=index)
    client.force_login(owner_admin)
    # session, user, organisation, page count, page rows (with their sharings)
    with django_assert_num_queries(5):
        response = client.get(LIST_URL)
    assert response.content.count(b'class="row-title"') == min(2 * count, 50)


def failed_invitation_email(organisation, *, index=0):
    """A colleague invitation e-mail that failed: it goes through the same outbox, with no sharing."""
    invitation = ColleagueInvitation.objects.create(
        organisation=organisation, email=f"colleague{index}@rentandgo.example", expires_at=NOW + dt.timedelta(days=14)
    )
    return Message.objects.create(
        key=f"colleague_invitation:{invitation.pk}:test",
        organisation=organisation,
        subject_type="colleague_invitation",
        subject_id=invitation.pk,
        kind=COLLEAGUE_INVITATION,
        recipient=invitation.email,
        language="en",
        time_zone="Europe/Paris",
        status=MessageStatus.FAILED,
        attempts=8,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        next_attempt_at=NOW,
        created_at=NOW - dt.timedelta(hours=1, minutes=index),
    )


def test_failed_colleague_invitations_are_listed_and_retried_in_place(
    client, owner_admin, outsider_admin, now, failed, django_capture_on_commit_callbacks
):
    invitation_email = failed_invitation_email(owner_admin.organisation)
    client.force_login(owner_admin)
    content = client.get(LIST_URL).content.decode()
    assert "colleague0@rentandgo.example" in content
    assert "Invitation to join the organisation" in content
    assert f'<a class="row-title" href="{reverse("accounts:members")}">Colleague invitation</a>' in content
    assert "CTR-MAIL" in content  # next to the sharing's
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(retry_url(invitation_email), **HTMX)
    assert response.status_code == 200
    assert "Queued to send again" in response.content.decode()
    invitation_email.refresh_from_db()
    assert (invitation_email.status, invitation_email.attempts) == (MessageStatus.PENDING, 0)
    assert len(callbacks) == 1
    client.force_login(outsider_admin)
    assert b"colleague0@rentandgo.example" not in client.get(LIST_URL).content


# --- retrying --------------------------------------------------------------------------------------------------------


def test_admin_retries_in_place_with_htmx(client, owner_admin, failed, django_capture_on_commit_callbacks):
    client.force_login(owner_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(retry_url(failed), **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="notification-{failed.pk}"')
    assert "<html" not in content
    assert "Queued to send again" in content
    assert "hx-post" not in content  # no second Retry button
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.PENDING, 0)
    assert len(callbacks) == 1  # delivery dispatched after commit


def test_admin_retries_without_javascript(client, owner_admin, failed):
    client.force_login(owner_admin)
    response = client.post(retry_url(failed), follow=True)
    assert response.redirect_chain == [(LIST_URL, 302)]
    assert b"will be sent again" in response.content
    assert b"Every notification was delivered" in response.content
    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING


def test_retrying_what_is_no_longer_failed_says_why(client, owner_admin, sharing):
    pending = make_notification(sharing, status=MessageStatus.PENDING)
    client.force_login(owner_admin)
    response = client.post(retry_url(pending), **HTMX)
    assert response.status_code == 409
    assert b"Only a failed notification can be sent again." in response.content
    assert b"hx-post" not in response.content
    pending.refresh_from_db()
    assert pending.status == MessageStatus.PENDING


# --- the share centre's link -----------------------------------------------------------------------------------------


def test_share_centre_links_admins_to_failures_only_when_there_are_some(client, owner_admin, owner_member, sharing):
    link = LIST_URL.encode()
    client.force_login(owner_admin)
    assert link not in client.get("/").content
    make_notification(sharing, index=1)
    make_notification(sharing, index=2)
    response = client.get("/")
    assert link in response.content
    assert b"2 e-mails not delivered" in response.content
    assert link not in client.get("/?q=CTR", **HTMX).content  # the list fragment has no page head
    client.force_login(owner_member)
    assert link not in client.get("/").content


@pytest.mark.parametrize("count", [1, 20])
def test_share_centre_link_costs_one_query_whatever_the_failures(
    client, django_assert_num_queries, owner_admin, sharing, count
):
    from tests.sharing.test_views import SHARE_CENTRE_QUERIES

    for index in range(count):
        make_notification(sharing, index=index)
    client.force_login(owner_admin)
    with django_assert_num_queries(SHARE_CENTRE_QUERIES):
        response = client.get("/")
    assert f"{count} e-mail".encode() in response.content
