"""`manage.py seed_demo` builds the demo world through the services, and running it again duplicates nothing."""

import datetime as dt
import io
from collections import defaultdict

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command

from accounts.models import Organisation, User
from audit.models import AuditEvent
from fleet.data_packs import METRICS, Metric
from fleet.models import FaultCode, Machine, Position, Reading
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 11, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
RENTAL = "crestline-equipment-rental"
COUNTERS = [
    Metric.OPERATING_HOURS,
    Metric.IDLE_HOURS,
    Metric.FUEL_USED,
    Metric.DISTANCE,
    Metric.LOAD_COUNT,
    Metric.PAYLOAD_TOTAL,
    Metric.ACTIVE_REGENERATION_HOURS,
    Metric.POWER_TAKE_OFF_HOURS,
]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", machines=8, days=3, stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    apps_seeded = ("accounts", "account", "fleet", "sharing")
    models = [model for app in apps_seeded for model in apps.get_app_config(app).get_models()]
    return {model._meta.label: model._default_manager.count() for model in models}


@pytest.fixture
def seeded(db, frozen):
    frozen(NOW)
    return seed()


def check_the_demo_has_three_organisations_with_an_admin_and_a_member_each(output: str):
    assert Organisation.objects.count() == 3
    for organisation in Organisation.objects.all():
        assert sorted(organisation.users.values_list("role", flat=True)) == ["admin", "member"]
    assert User.objects.count() == 6
    assert all(user.check_password("sharecentre-demo") for user in User.objects.all())
    # The logins are printed as a table.
    for user in User.objects.select_related("organisation"):
        line = next(line for line in output.splitlines() if user.email in line)
        assert "sharecentre-demo" in line
        assert user.organisation is not None
        assert user.organisation.name in line


def check_the_machines_are_real_makes_and_models_mostly_at_the_rental_company():
    assert Machine.objects.count() == 8
    owners = defaultdict(int)
    for machine in Machine.objects.select_related("organisation"):
        owners[machine.organisation.slug] += 1
        assert machine.serial_number
        assert machine.year
        assert machine.workspaces.exists()
    assert owners[RENTAL] == 5
    assert set(Machine.objects.values_list("make", flat=True)) >= {"Caterpillar", "Manitou", "Liebherr", "Volvo CE"}


def check_telemetry_covers_every_metric_positions_and_fault_codes_in_the_window():
    assert set(Reading.objects.values_list("metric", flat=True).distinct()) == set(METRICS)
    assert Position.objects.exists()
    assert FaultCode.objects.exists()
    for model in (Reading, Position, FaultCode):
        assert model.objects.filter(timestamp__lt=NOW - dt.timedelta(days=3)).count() == 0
        assert model.objects.filter(timestamp__gt=NOW).count() == 0


def assert_counters_only_grow():
    for machine in Machine.objects.all():
        for metric in COUNTERS:
            readings = Reading.objects.filter(machine=machine, metric=metric).order_by("timestamp")
            values = list(readings.values_list("value", flat=True))
            assert values == sorted(values), (machine, metric)


def check_sharings_in_every_status_in_both_directions():
    every_status = set(SharingStatus.values)
    from_rental = Sharing.objects.filter(owner__slug=RENTAL)
    from_others = Sharing.objects.exclude(owner__slug=RENTAL)
    assert set(from_rental.values_list("status", flat=True)) == every_status
    assert set(from_others.values_list("status", flat=True)) == every_status
    assert Sharing.objects.filter(beneficiary__slug=RENTAL).exists()
    assert from_rental.count() > from_others.count()
    # An invitation to someone without an account, references like contract numbers, properties filled.
    assert from_rental.filter(status=SharingStatus.PENDING, beneficiary__isnull=True).exists()
    assert all(sharing.reference.startswith("CTR-") for sharing in from_rental)
    assert from_rental.exclude(properties={}).count() == from_rental.count()


def check_the_history_was_replayed_through_the_services():
    """Each sharing was created at its own moment, and the audit trail holds what happened since."""
    assert not Sharing.objects.filter(created_at__gte=NOW).exists()
    for sharing in Sharing.objects.all():
        assert sharing.status == sharing.status_at(NOW)
        events = AuditEvent.objects.filter(target_id=sharing.pk)
        assert events.filter(action=AuditAction.CREATED, occurred_at=sharing.created_at).exists()
    stopped = Sharing.objects.filter(status=SharingStatus.STOPPED)
    assert all(sharing.stopped_at < NOW for sharing in stopped)
    assert AuditEvent.objects.filter(action=AuditAction.BENEFICIARY_ATTACHED).exists()
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, actor_kind="system").exists()


def test_the_demo_world(seeded):
    """One seed, every aspect of the world checked (seeding takes a second or so: once is enough)."""
    check_the_demo_has_three_organisations_with_an_admin_and_a_member_each(seeded)
    check_the_machines_are_real_makes_and_models_mostly_at_the_rental_company()
    check_telemetry_covers_every_metric_positions_and_fault_codes_in_the_window()
    assert_counters_only_grow()
    check_sharings_in_every_status_in_both_directions()
    check_the_history_was_replayed_through_the_services()


def test_running_it_again_changes_no_count(seeded):
    before = row_counts()
    seed()
    assert row_counts() == before


def test_a_later_run_tops_the_telemetry_up_to_now(seeded):
    """A day later the counters carry on from the stored values: nothing duplicated, nothing going backwards."""
    readings, sharings = Reading.objects.count(), Sharing.objects.count()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        seed()
    assert Reading.objects.count() > readings
    assert Reading.objects.filter(timestamp__gt=NOW).exists()
    assert Sharing.objects.count() == sharings
    assert_counters_only_grow()


def test_the_command_refuses_a_fleet_too_small_for_the_story(db):
    with pytest.raises(CommandError):
        call_command("seed_demo", machines=3, days=3, stdout=io.StringIO())
