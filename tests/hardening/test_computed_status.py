"""The status shown is the one the dates give now, not the cached column (issue 9, item 13): the lifecycle job may be
late, and the page, the list rows and the CSV must not contradict the badge colour and the access rules."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from sharing.lifecycle import SharingStatus
from sharing.models import Sharing
from tests.factories import SharingFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def stale(frozen, owner_org, beneficiary_org, machine):
    """Started an hour ago; the lifecycle job has not run yet, so the cached status still says scheduled."""
    frozen(NOW)
    sharing = SharingFactory(
        owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=NOW - dt.timedelta(hours=1)
    )
    Sharing.objects.filter(pk=sharing.pk).update(status=SharingStatus.SCHEDULED)
    return sharing


def test_the_sharing_page_shows_the_status_of_the_dates(client, owner_admin, stale):
    client.force_login(owner_admin)
    content = client.get(reverse("sharing:detail", args=[stale.pk])).content.decode()
    heading = re.search(r"<h1>.*?</h1>", content, re.S).group(0)
    assert 'badge-in_progress">In progress<' in heading


def test_the_list_row_shows_the_status_of_the_dates(client, owner_admin, stale):
    client.force_login(owner_admin)
    content = client.get("/").content.decode()
    assert 'badge badge-in_progress">In progress<' in content
    assert 'badge-scheduled">Scheduled<' not in content


def test_the_csv_shows_the_status_of_the_dates(client, beneficiary_admin, stale):
    client.force_login(beneficiary_admin)
    response = client.get("/sharings/export.csv?direction=incoming")
    header, row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert dict(zip(header, row, strict=True))["Status"] == "In progress"
