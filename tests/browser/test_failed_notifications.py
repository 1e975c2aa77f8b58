"""An admin follows the share centre's link to the failed notifications and retries them in place; a retry the rules
refuse (the row is no longer failed) shows its reason in the row, htmx swapping the 409 answer like a success."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from outbox.models import Message, MessageStatus
from sharing.messages import SharingMessage
from tests.factories import SharingFactory

pytestmark = pytest.mark.browser


def failed_notification(sharing, email):
    now = timezone.now()
    return Message.objects.create(
        key=f"sharing:{sharing.pk}:browser:{email}",
        organisation=sharing.owner,
        subject_type="sharing",
        subject_id=sharing.pk,
        kind=SharingMessage.STARTED,
        recipient=email,
        language="en",
        time_zone="Europe/Paris",
        status=MessageStatus.FAILED,
        attempts=8,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        next_attempt_at=now,
        created_at=now - dt.timedelta(hours=3),
    )


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_admin_retries_failed_notifications_in_place(page, live_server, login, screenshot, owner_admin, viewport):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    sharing = SharingFactory(owner=owner_admin.organisation, reference="CTR-2026-014")
    first = failed_notification(sharing, "site.manager@buildco.example")
    second = failed_notification(sharing, "accounts@buildco.example")
    page.set_viewport_size(viewport)
    login(owner_admin.email)

    expect(page.get_by_role("link", name="2 e-mails not delivered")).to_be_visible()
    screenshot(f"share-centre-failed-link-{viewport['width']}")
    page.get_by_role("link", name="2 e-mails not delivered").click()
    expect(page.get_by_role("heading", name="Failed notifications")).to_be_visible()
    screenshot(f"failed-notifications-{viewport['width']}")

    page.get_by_role("button", name="Retry the e-mail to site.manager@buildco.example").click()
    expect(page.locator(f"#notification-{first.pk}")).to_contain_text("Queued to send again")
    first.refresh_from_db()
    assert first.status == MessageStatus.PENDING

    # Meanwhile someone else already sent the second one again: the refusal is shown in its row.
    Message.objects.filter(pk=second.pk).update(status=MessageStatus.PENDING)
    page.get_by_role("button", name="Retry the e-mail to accounts@buildco.example").click()
    expect(page.locator(f"#notification-{second.pk}")).to_contain_text("Only a failed notification can be sent again.")
    expect(page.get_by_role("heading", name="Failed notifications")).to_be_visible()  # still the same page
