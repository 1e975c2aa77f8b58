"""The poller against feeds served by real local HTTP servers (pytest-httpserver), on payloads shaped after vendors'
documentation (tests/telematics/feeds/). No mock of HTTP: every byte travels through hiboo_connect.outbound."""

import base64
import datetime as dt
import json
import re
import socket

import pytest
from django.test import override_settings
from werkzeug import Response

from accounts.actors import Actor
from fleet.models import FaultCode, Machine, Position, Reading
from telematics import poller
from telematics.models import AuthType, SourceMachine, TelematicsRun, TelematicsSource
from telematics.services import SourceAuth, telematics_poll_request, telematics_source_create
from telematics.tasks import telematics_poll_due_task
from tests.factories import MachineFactory
from tests.telematics.feeds import feed

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
BASIC = "Basic " + base64.b64encode(b"fleet@rentandgo.example:s3cret").decode()
JSON = "application/json"
XML = "application/xml"


def _source(actor, server, *, auth=None, create_machines=False, name="VisionLink", poll_minutes=60):
    return telematics_source_create(
        actor=actor,
        name=name,
        base_url=server.url_for("/aemp/v2"),
        auth=auth or SourceAuth(type=AuthType.BASIC, username="fleet@rentandgo.example", secret="s3cret"),
        poll_minutes=poll_minutes,
        create_machines=create_machines,
    )


def _not_found(server):
    """Whatever the test did not serve is a 404 (pytest-httpserver would answer 500)."""
    server.expect_request(re.compile(".*")).respond_with_data("", status=404)


def _serve_caterpillar(server, headers=None):
    headers = headers or {"Authorization": BASIC}
    server.expect_request("/aemp/v2/Fleet/1", headers=headers).respond_with_data(
        feed("caterpillar_fleet_1.json"), content_type=JSON
    )
    server.expect_request("/aemp/v2/Fleet/2", headers=headers).respond_with_data(
        feed("caterpillar_fleet_2.json"), content_type=JSON
    )
    server.expect_request(
        "/aemp/v2/Fleet/Equipment/ID/CAT-EQ-001/CumulativeOperatingHours/2026-07-05T09:00:00Z/2026-07-12T09:00:00Z/1",
        headers=headers,
    ).respond_with_data(feed("caterpillar_operating_hours.json"), content_type=JSON)
    server.expect_request(
        "/aemp/v2/Fleet/Equipment/ID/CAT-EQ-002/FaultCodes/2026-07-05T09:00:00Z/2026-07-12T09:00:00Z/1",
        headers=headers,
    ).respond_with_data(feed("caterpillar_fault_codes.xml"), content_type=XML)
    _not_found(server)


@pytest.fixture
def cat_fleet(owner_org):
    """Two of the Caterpillar feed's three machines are in the owner's fleet (make "Caterpillar", the feed's "CAT")."""
    return (
        MachineFactory(organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT0320GCXYZ01"),
        MachineFactory(organisation=owner_org, make="Caterpillar", model="950 GC", serial_number="CAT0950GCXYZ02"),
    )


def _paths(server):
    return [request.path for request, _response in server.log]


def test_a_poll_reads_the_pages_matches_the_machines_and_stores_snapshot_and_time_series(
    httpserver, frozen, admin_actor, cat_fleet
):
    frozen(NOW)
    excavator, loader = cat_fleet
    _serve_caterpillar(httpserver)
    source = _source(admin_actor, httpserver)

    run = poller.telematics_source_poll(source_id=source.pk)

    assert run.error == "FaultCodes, FaultCodes: a fault code without a date or an identifier".join([f"{loader}, ", ""])
    assert (run.machines_seen, run.machines_matched, run.machines_created) == (3, 2, 0)
    # Snapshot: 8 readings and a position of the excavator, a reading and a fault of the loader. Time series: three
    # operating hours (one already in the snapshot) and two faults (one already in the snapshot).
    assert (run.readings_seen, run.readings_stored) == (16, 14)
    assert (run.started_at, run.finished_at) == (NOW, NOW)
    hours = Reading.objects.filter(machine=excavator, metric="operating_hours").order_by("timestamp")
    assert [reading.value for reading in hours] == [1226.0, 1233.0, 1234.5]
    assert Position.objects.get(machine=excavator).altitude == 173.0
    assert sorted(FaultCode.objects.filter(machine=loader).values_list("identifier", "severity")) == [
        ("110-0", "high"),
        ("168-1", "medium"),
    ]
    assert Reading.objects.filter(machine=excavator).count() == 10
    links = dict(SourceMachine.objects.filter(source=source).values_list("machine__serial_number", "equipment_id"))
    assert links == {"CAT0320GCXYZ01": "CAT-EQ-001", "CAT0950GCXYZ02": "CAT-EQ-002"}
    assert not Machine.objects.filter(serial_number="CATD6XYZ03").exists()
    source.refresh_from_db()
    assert (source.failures, source.claimed_until, source.next_poll_at) == (0, None, NOW + dt.timedelta(hours=1))
    # Each element the snapshot showed for a matched machine was asked for once; nothing for the unknown D6.
    series = [path for path in _paths(httpserver) if "/Equipment/" in path]
    assert len(series) == 12  # the excavator's fault codes too, though its snapshot shows none
    assert not any("CAT-EQ-003" in path for path in series)


def test_a_second_poll_stores_nothing_twice_and_asks_only_for_what_is_new(httpserver, frozen, admin_actor, cat_fleet):
    frozen(NOW)
    _serve_caterpillar(httpserver)
    source = _source(admin_actor, httpserver)
    poller.telematics_source_poll(source_id=source.pk)
    counts = (Reading.objects.count(), Position.objects.count(), FaultCode.objects.count())
    httpserver.clear_log()

    frozen(NOW + dt.timedelta(hours=1))
    run = poller.telematics_source_poll(source_id=source.pk)

    assert (run.readings_seen, run.readings_stored) == (11, 0)
    assert (Reading.objects.count(), Position.objects.count(), FaultCode.objects.count()) == counts
    # The pages, and the fault codes since the last stored (snapshots need not carry them).
    assert _paths(httpserver) == [
        "/aemp/v2/Fleet/1",
        "/aemp/v2/Fleet/2",
        "/aemp/v2/Fleet/Equipment/ID/CAT-EQ-001/FaultCodes/2026-07-05T10:00:00Z/2026-07-12T10:00:00Z/1",
        "/aemp/v2/Fleet/Equipment/ID/CAT-EQ-002/FaultCodes/2026-07-11T16:58:00Z/2026-07-12T10:00:00Z/1",
    ]


def test_unknown_machines_are_created_when_the_source_allows_it(httpserver, frozen, admin_actor, owner_org, cat_fleet):
    frozen(NOW)
    _serve_caterpillar(httpserver)
    source = _source(admin_actor, httpserver, create_machines=True)
    run = poller.telematics_source_poll(source_id=source.pk)
    assert (run.machines_seen, run.machines_matched, run.machines_created) == (3, 2, 1)
    dozer = Machine.objects.get(serial_number="CATD6XYZ03")
    assert (dozer.organisation, dozer.make, dozer.model, dozer.category) == (owner_org, "CAT", "D6", "other")
    assert Reading.objects.filter(machine=dozer, metric="operating_hours").get().value == 88.0
    # The next poll finds it by the link it made.
    run = poller.telematics_source_poll(source_id=source.pk)
    assert (run.machines_matched, run.machines_created) == (3, 0)


def test_a_machine_of_another_organisation_is_neither_matched_nor_created(
    httpserver, frozen, admin_actor, outsider_org
):
    frozen(NOW)
    MachineFactory(organisation=outsider_org, make="CAT", serial_number="CATD6XYZ03")
    _serve_caterpillar(httpserver)
    source = _source(admin_actor, httpserver, create_machines=True)
    run = poller.telematics_source_poll(source_id=source.pk)
    assert (run.machines_matched, run.machines_created) == (0, 2)
    assert "CAT CATD6XYZ03: not created (A machine with this make and serial number already exists.)" in run.error
    assert not Reading.objects.filter(machine__organisation=outsider_org).exists()


def test_machines_match_by_pin_too(httpserver, frozen, admin_actor, owner_org):
    frozen(NOW)
    machine = MachineFactory(organisation=owner_org, make="Volvo CE", serial_number="12345", pin="VCEC220EV00012345")
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(feed("trackunit_fleet_1.xml"), content_type=XML)
    _not_found(httpserver)
    source = _source(admin_actor, httpserver)
    run = poller.telematics_source_poll(source_id=source.pk)
    assert run.machines_matched == 1
    assert Reading.objects.get(machine=machine, metric="distance").value == pytest.approx(16.09344)


@pytest.mark.parametrize("first_page_served", [True, False], ids=["page 1 links back to 0", "page 1 is missing"])
def test_snapshot_pages_numbered_from_zero(httpserver, frozen, admin_actor, owner_org, first_page_served):
    frozen(NOW)
    first = MachineFactory(organisation=owner_org, make="Takeuchi", serial_number="126000123")
    second = MachineFactory(organisation=owner_org, make="Takeuchi", serial_number="129000456")
    httpserver.expect_request("/aemp/v2/Fleet/0").respond_with_data(feed("pages_from_zero_0.json"), content_type=JSON)
    if first_page_served:
        httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(
            feed("pages_from_zero_1.json"), content_type=JSON
        )
    _not_found(httpserver)
    source = _source(
        admin_actor, httpserver, auth=SourceAuth(type=AuthType.HEADER, header_name="X-Api-Key", secret="k")
    )
    run = poller.telematics_source_poll(source_id=source.pk)
    expected = {first, second} if first_page_served else {first}
    assert set(Machine.objects.filter(readings__metric="operating_hours")) == expected
    assert run.machines_seen == len(expected)
    assert all(request.headers["X-Api-Key"] == "k" for request, _ in httpserver.log)


def test_oauth2_client_credentials(httpserver, frozen, admin_actor, cat_fleet):
    frozen(NOW)
    client = "Basic " + base64.b64encode(b"rentandgo_cc_client:cl%C3%A9").decode()
    httpserver.expect_request(
        "/as/token.oauth2", method="POST", headers={"Authorization": client}, data="grant_type=client_credentials"
    ).respond_with_json({"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 3600})
    _serve_caterpillar(httpserver, headers={"Authorization": "Bearer t0k3n"})
    auth = SourceAuth(
        type=AuthType.OAUTH2,
        token_url=httpserver.url_for("/as/token.oauth2"),
        client_id="rentandgo_cc_client",
        secret="clé",
    )
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver, auth=auth).pk)
    assert run.readings_stored == 14
    assert _paths(httpserver).count("/as/token.oauth2") == 1  # one token for the whole poll


@pytest.mark.parametrize(
    "answer",
    [
        Response(json.dumps({"error": "invalid_client"}), status=401, content_type=JSON),
        Response(json.dumps({"token_type": "Bearer"}), status=200, content_type=JSON),
        Response("<html>", status=200, content_type="text/html"),
    ],
    ids=["refused", "no token", "not JSON"],
)
def test_oauth2_failures_are_said_on_the_run(httpserver, frozen, admin_actor, answer):
    frozen(NOW)
    httpserver.expect_request("/token", method="POST").respond_with_response(answer)
    auth = SourceAuth(type=AuthType.OAUTH2, token_url=httpserver.url_for("/token"), client_id="c", secret="s")
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver, auth=auth).pk)
    assert run.error.startswith("The token endpoint gave no access token")
    assert not [path for path in _paths(httpserver) if "Fleet" in path]


def test_failures_back_off_doubling_and_a_success_resets_them(httpserver, frozen, admin_actor, cat_fleet):
    traveller = frozen(NOW)
    httpserver.expect_ordered_request("/aemp/v2/Fleet/1").respond_with_data("", status=401)
    httpserver.expect_ordered_request("/aemp/v2/Fleet/1").respond_with_data("oops", status=503)
    source = _source(admin_actor, httpserver, poll_minutes=30)

    run = poller.telematics_source_poll(source_id=source.pk)
    source.refresh_from_db()
    assert run.error == f"The feed refused the credentials (HTTP 401) at {httpserver.url_for('/aemp/v2/Fleet/1')}."
    assert (source.failures, source.next_poll_at) == (1, NOW + dt.timedelta(minutes=60))

    traveller.move_to(source.next_poll_at)
    run = poller.telematics_source_poll(source_id=source.pk, due_only=True)
    source.refresh_from_db()
    assert "HTTP 503" in run.error
    assert (source.failures, source.next_poll_at) == (2, NOW + dt.timedelta(minutes=60 + 120))

    httpserver.clear()
    _serve_caterpillar(httpserver)
    traveller.move_to(source.next_poll_at)
    poller.telematics_source_poll(source_id=source.pk, due_only=True)
    source.refresh_from_db()
    assert source.failures == 0


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, dt.timedelta(minutes=30)), (1, dt.timedelta(hours=1)), (3, dt.timedelta(hours=4)), (9, dt.timedelta(days=1))],
)
def test_backoff_is_capped_at_a_day(failures, wait):
    assert poller.backoff(poll_minutes=30, failures=failures) == wait
    assert poller.backoff(poll_minutes=1440, failures=failures) == dt.timedelta(days=1)


def test_a_malformed_page_stops_the_poll_and_says_what_was_stored(httpserver, frozen, admin_actor, cat_fleet):
    frozen(NOW)
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(feed("caterpillar_fleet_1.json"), content_type=JSON)
    httpserver.expect_request("/aemp/v2/Fleet/2").respond_with_data(feed("truncated.xml"), content_type=XML)
    _not_found(httpserver)
    source = _source(admin_actor, httpserver)
    run = poller.telematics_source_poll(source_id=source.pk)
    url = httpserver.url_for("/aemp/v2/Fleet/2")
    assert run.error.startswith(f"Page {url}: The feed sent XML that cannot be read")
    assert run.error.endswith("The page before it was stored.")
    assert run.readings_stored == 11
    source.refresh_from_db()
    assert source.failures == 1


def test_a_partial_page_is_stored_and_its_problems_listed(httpserver, frozen, admin_actor, cat_fleet):
    frozen(NOW)
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(feed("partial.json"), content_type=JSON)
    _not_found(httpserver)
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver).pk)
    assert run.readings_stored == 1
    assert len(run.error.splitlines()) == 6
    assert "unknown unit “barrel”" in run.error


def test_values_dated_in_the_future_are_left_out_and_reported(httpserver, frozen, admin_actor, cat_fleet):
    frozen(dt.datetime(2026, 7, 10, tzinfo=dt.UTC))
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(feed("caterpillar_fleet_1.json"), content_type=JSON)
    _not_found(httpserver)
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver).pk)
    assert "9 values dated in the future left out" in run.error
    assert Reading.objects.count() == 0


def test_a_next_link_to_another_host_is_not_followed(httpserver, frozen, admin_actor):
    frozen(NOW)
    page = {"Links": [{"rel": "next", "href": "http://elsewhere.example/Fleet/2"}], "Equipment": []}
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_json(page)
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver).pk)
    assert run.error.startswith("The feed linked to http://elsewhere.example/Fleet/2, outside its own address")


def test_a_time_series_failure_is_reported_and_the_poll_goes_on(httpserver, frozen, admin_actor, cat_fleet):
    frozen(NOW)
    excavator, _loader = cat_fleet
    httpserver.expect_request(re.compile(r".*/CAT-EQ-001/Location/.*")).respond_with_data("nope", status=500)
    httpserver.expect_request(re.compile(r".*/CAT-EQ-001/FuelUsed/.*")).respond_with_data("{", content_type=JSON)
    _serve_caterpillar(httpserver)
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver).pk)
    assert f"{excavator}, Location: The feed answered HTTP 500" in run.error
    assert f"{excavator}, FuelUsed: The feed sent JSON that cannot be read" in run.error
    assert Reading.objects.filter(machine=excavator, metric="operating_hours").count() == 3


@override_settings(OUTBOUND_ALLOW_PRIVATE_TARGETS=False)
def test_a_feed_on_a_private_address_is_refused_when_polled(httpserver, frozen, admin_actor):
    frozen(NOW)
    with override_settings(OUTBOUND_ALLOW_PRIVATE_TARGETS=True):
        source = _source(admin_actor, httpserver)
    run = poller.telematics_source_poll(source_id=source.pk)
    assert "private or local network" in run.error
    assert len(httpserver.log) == 0


def test_an_unreachable_feed_and_an_unexpected_error_end_on_the_run(frozen, admin_actor, monkeypatch):
    frozen(NOW)
    with socket.socket() as closed:  # a port nothing listens on any more
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    source = telematics_source_create(
        actor=admin_actor,
        name="Gone",
        base_url=f"http://127.0.0.1:{port}/aemp/v2",
        auth=SourceAuth(type=AuthType.HEADER, header_name="X-Key", secret="k"),
    )
    run = poller.telematics_source_poll(source_id=source.pk)
    assert "could not be reached" in run.error
    TelematicsSource.objects.filter(pk=source.pk).update(next_poll_at=NOW)

    def broken(poll):
        raise RuntimeError("a bug")

    monkeypatch.setattr(poller, "_poll", broken)
    run = poller.telematics_source_poll(source_id=source.pk)
    assert run.error == "The poll failed on an unexpected error; the team has been told."
    source.refresh_from_db()
    assert (source.failures, source.claimed_until) == (2, None)


def test_two_polls_of_one_source_never_run_at_once(httpserver, frozen, admin_actor):
    frozen(NOW)
    source = _source(admin_actor, httpserver)
    assert poller.source_claim(source_id=source.pk, now=NOW, due_only=True) is True
    assert poller.source_claim(source_id=source.pk, now=NOW, due_only=False) is False
    queued = TelematicsRun.objects.create(source=source, requested_at=NOW)
    assert poller.telematics_source_poll(source_id=source.pk, run_id=queued.pk) is None
    queued.refresh_from_db()
    assert queued.error == "Another poll of this source was under way."
    assert len(httpserver.log) == 0
    # The lease runs out: a worker that died does not block the source for ever, and its run is closed.
    abandoned = TelematicsRun.objects.create(source=source, requested_at=NOW, started_at=NOW)
    frozen(NOW + poller.LEASE)
    _not_found(httpserver)
    assert poller.telematics_source_poll(source_id=source.pk) is not None
    abandoned.refresh_from_db()
    assert abandoned.error == "The poll stopped before it finished (its worker stopped)."


def test_the_periodic_task_polls_due_sources_and_one_failure_stops_no_other(
    httpserver, frozen, admin_actor, outsider_admin, cat_fleet
):
    frozen(NOW)
    _serve_caterpillar(httpserver)
    good = _source(admin_actor, httpserver)
    broken = telematics_source_create(
        actor=Actor.for_user(outsider_admin),
        name="Broken",
        base_url=httpserver.url_for("/broken"),
        auth=SourceAuth(type=AuthType.HEADER, header_name="X-Key", secret="k"),
    )
    later = _source(admin_actor, httpserver, name="Later")
    TelematicsSource.objects.filter(pk=later.pk).update(next_poll_at=NOW + dt.timedelta(minutes=1))

    assert telematics_poll_due_task() == 2
    assert telematics_poll_due_task() == 0  # nothing due any more

    assert "HTTP 404" in broken.runs.get().error
    assert good.runs.get().readings_stored == 14
    assert not later.runs.exists()


def test_poll_now_answers_a_queued_run_and_polls_after_commit(
    httpserver, frozen, admin_actor, cat_fleet, django_capture_on_commit_callbacks
):
    frozen(NOW)
    _serve_caterpillar(httpserver)
    source = _source(admin_actor, httpserver)
    TelematicsSource.objects.filter(pk=source.pk).update(next_poll_at=NOW + dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        run = telematics_poll_request(actor=admin_actor, source=source)
        assert (run.started_at, run.finished_at) == (None, None)
        # Asked again before it ran: the same run, not a second poll.
        assert telematics_poll_request(actor=admin_actor, source=source) == run
    run.refresh_from_db()
    assert (run.started_at, run.readings_stored) == (NOW, 14)
    # Once finished, a new request makes a new run.
    with django_capture_on_commit_callbacks(execute=False):
        assert telematics_poll_request(actor=admin_actor, source=source) != run


def test_poll_now_with_the_broker_down_leaves_the_source_due(admin_actor, frozen, monkeypatch, httpserver):
    frozen(NOW)
    source = _source(admin_actor, httpserver)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("telematics.tasks.telematics_source_poll_task.apply_async", broker_down)
    run = telematics_poll_request(actor=admin_actor, source=source)
    from telematics.services import _queue_poll

    _queue_poll(source.pk, run.pk)  # what runs after commit: logs, does not raise
    assert poller.sources_due(now=NOW) == [source.pk]
    assert telematics_poll_due_task() == 0


def test_the_run_speaks_the_organisation_language(httpserver, frozen, admin_actor, owner_org, cat_fleet):
    frozen(NOW)
    owner_org.language = "fr"
    owner_org.save()
    httpserver.expect_request("/aemp/v2/Fleet/1").respond_with_data(feed("partial.json"), content_type=JSON)
    _not_found(httpserver)
    run = poller.telematics_source_poll(source_id=_source(admin_actor, httpserver).pk)
    assert "unité inconnue «\u00a0barrel\u00a0»" in run.error
    assert "Équipement 3\u00a0: pas un élément" in run.error
