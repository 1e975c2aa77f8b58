"""The telematics sources pages: admins only (members 403, other organisations 404), the list with each last run and
its problems in a fixed number of queries, the form with a write-only secret, delete after confirmation, poll now."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor
from telematics.models import TelematicsRun, TelematicsSource
from telematics.services import SourceAuth, telematics_source_create

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _source(admin, name="VisionLink"):
    return telematics_source_create(
        actor=Actor.for_user(admin),
        name=name,
        base_url="https://127.0.0.1:9/aemp/v2",
        auth=SourceAuth(type="basic", username="fleet", secret="pa55-w0rd"),
    )


FORM = {
    "name": "JDLink",
    "base_url": "https://127.0.0.1:9/jd",
    "auth_type": "header",
    "header_name": "X-Api-Key",
    "secret": "k3y-value",
    "poll_minutes": "30",
}


def test_the_list_shows_each_source_with_its_last_run_and_problems(owner_admin, frozen):
    frozen(NOW)
    source = _source(owner_admin)
    TelematicsRun.objects.create(
        source=source,
        requested_at=NOW,
        started_at=NOW,
        finished_at=NOW + dt.timedelta(seconds=4),
        machines_seen=3,
        machines_matched=2,
        readings_seen=16,
        readings_stored=14,
        error="Caterpillar 950 GC, FaultCodes: a fault code without a date",
    )
    page = _client(owner_admin).get(reverse("telematics:sources")).content.decode()
    assert "VisionLink" in page
    assert "3 machines seen" in page
    assert "16 values read, 14 new stored" in page
    assert "a fault code without a date" in page
    assert "pa55-w0rd" not in page


def test_the_list_in_french(owner_admin, frozen):
    frozen(NOW)
    _source(owner_admin)
    page = _client(owner_admin).get(reverse("telematics:sources"), headers={"Accept-Language": "fr"}).content.decode()
    assert "Sources télématiques" in page
    assert "Interroger maintenant" in page


def test_members_get_403_and_other_organisations_404(owner_admin, owner_member, outsider_admin):
    source = _source(owner_admin)
    member, outsider = _client(owner_member), _client(outsider_admin)
    assert member.get(reverse("telematics:sources")).status_code == 403
    assert member.get(reverse("telematics:source_edit", args=[source.pk])).status_code == 403
    for name in ("source_edit", "source_delete", "source_poll"):
        assert outsider.post(reverse(f"telematics:{name}", args=[source.pk])).status_code == 404
    assert str(source.pk) not in outsider.get(reverse("telematics:sources")).content.decode()


def test_the_list_costs_the_same_queries_however_many_sources(owner_admin, django_assert_num_queries):
    client = _client(owner_admin)
    for index in range(2):
        TelematicsRun.objects.create(source=_source(owner_admin, f"Feed {index}"))
    client.get(reverse("telematics:sources"))
    # Session, user, organisation; the sources with their last run ids; their runs.
    with django_assert_num_queries(5):
        assert client.get(reverse("telematics:sources")).status_code == 200
    for index in range(2, 7):
        TelematicsRun.objects.create(source=_source(owner_admin, f"Feed {index}"))
    with django_assert_num_queries(5):
        assert client.get(reverse("telematics:sources")).content.decode().count("Poll now<span") == 7


def test_register_a_source(owner_admin, frozen):
    frozen(NOW)
    client = _client(owner_admin)
    assert client.get(reverse("telematics:source_create")).status_code == 200
    response = client.post(reverse("telematics:source_create"), FORM)
    assert response.status_code == 302
    source = TelematicsSource.objects.get()
    assert (source.name, source.auth_type, source.header_name, source.secret, source.poll_minutes) == (
        "JDLink",
        "header",
        "X-Api-Key",
        "k3y-value",
        30,
    )


def test_a_refusal_lands_next_to_its_field(owner_admin):
    response = _client(owner_admin).post(reverse("telematics:source_create"), FORM | {"header_name": "Host"})
    assert response.status_code == 400
    assert "Give the name of an HTTP header" in response.content.decode()
    assert not TelematicsSource.objects.exists()
    response = _client(owner_admin).post(reverse("telematics:source_create"), FORM | {"poll_minutes": "2"})
    assert response.status_code == 400


def test_the_edit_form_never_shows_the_secret_and_an_empty_one_keeps_it(owner_admin):
    source = _source(owner_admin)
    client = _client(owner_admin)
    page = client.get(reverse("telematics:source_edit", args=[source.pk])).content.decode()
    assert "pa55-w0rd" not in page
    assert "A secret is stored; it is never shown. Leave empty to keep it." in page
    form = FORM | {"name": "VisionLink EU", "auth_type": "basic", "username": "fleet-eu", "secret": ""}
    assert client.post(reverse("telematics:source_edit", args=[source.pk]), form).status_code == 302
    source.refresh_from_db()
    assert (source.name, source.username, source.secret) == ("VisionLink EU", "fleet-eu", "pa55-w0rd")
    # Another kind of authentication needs its own secret.
    response = client.post(reverse("telematics:source_edit", args=[source.pk]), form | {"auth_type": "header"})
    assert response.status_code == 400
    assert "Give the password, client secret or key." in response.content.decode()


def test_delete_asks_first(owner_admin):
    source = _source(owner_admin)
    client = _client(owner_admin)
    question = client.get(reverse("telematics:source_delete", args=[source.pk]))
    assert "Delete the source “VisionLink”?" in question.content.decode()
    assert TelematicsSource.objects.exists()
    assert client.post(reverse("telematics:source_delete", args=[source.pk])).status_code == 302
    assert not TelematicsSource.objects.exists()


@pytest.mark.parametrize("under_way", [False, True])
def test_poll_now_queues_a_run(owner_admin, frozen, django_capture_on_commit_callbacks, under_way):
    frozen(NOW)
    source = _source(owner_admin)
    if under_way:
        TelematicsRun.objects.create(source=source, requested_at=NOW, started_at=NOW)
        TelematicsSource.objects.filter(pk=source.pk).update(claimed_until=NOW + dt.timedelta(minutes=5))
    client = _client(owner_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("telematics:source_poll", args=[source.pk]), follow=True)
    page = response.content.decode()
    assert ("already under way" in page) is under_way
    assert ("is queued" in page) is not under_way
    assert len(callbacks) == (0 if under_way else 1)
    assert TelematicsRun.objects.filter(source=source).count() == 1
