"""Expiry reminders (DESIGN §9, sharing/reminders.py): the owner's admins and the recipient are reminded once per
sharing and end date, the organisation's number of days before the end; a scheduler that was down catches up, two
runs never remind twice, moving the end re-arms the reminder, and a contract's sharings ending on one day make one
reminder. The wall clock is frozen explicitly for every run (the task reads it)."""

import datetime as dt

import pytest

from accounts.actors import Actor
from accounts.models import Organisation
from accounts.services import organisation_update
from audit.models import AuditEvent
from contracts.models import Contract
from hiboo_connect.errors import InvalidInput
from outbox.email import message_email
from outbox.models import Message
from sharing import reminders
from sharing.reminders import KIND, sharing_reminders_send
from sharing.services import sharing_create, sharing_stop, sharing_update
from sharing.tasks import sharing_reminders_send_task
from tests.factories import AdminFactory, MachineFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
END = NOW + 20 * DAY  # 21 July 2026, 08:00 UTC


def share(actor, *, end_at=END, machines=None, **extra):
    machines = machines or [MachineFactory(organisation=actor.organisation, make="CAT", model="320 GC")]
    return sharing_create(
        actor=actor,
        machine_ids=[machine.pk for machine in machines],
        recipient_email=extra.pop("recipient_email", "admin@buildco.example"),
        start_at=NOW + DAY,
        end_at=end_at,
        now=NOW,
        **extra,
    )


def run_at(frozen, moment) -> int:
    """One run of the periodic task at `moment`, as beat would start it."""
    frozen(moment)
    return sharing_reminders_send_task.delay().get()


def reminded() -> list[str]:
    return sorted(Message.objects.filter(kind=KIND).values_list("recipient", flat=True))


@pytest.fixture
def world(frozen, owner_admin, beneficiary_admin):
    frozen(NOW)
    AdminFactory(organisation=owner_admin.organisation, email="second-admin@rentandgo.example")
    UserFactory(organisation=owner_admin.organisation, email="member@rentandgo.example")  # not an admin: not told
    return Actor.for_user(owner_admin)


def test_reminded_once_seven_days_before_even_across_beat_downtime(frozen, world):
    share(world)

    assert run_at(frozen, END - 8 * DAY) == 0  # not yet
    # Beat is down from 8 days before the end until 5 days before: the first run after it catches up.
    assert run_at(frozen, END - 5 * DAY) == 3
    assert reminded() == ["admin@buildco.example", "admin@rentandgo.example", "second-admin@rentandgo.example"]
    for moment in (END - 5 * DAY + dt.timedelta(minutes=15), END - 2 * DAY, END - dt.timedelta(minutes=1)):
        assert run_at(frozen, moment) == 0
    assert Message.objects.filter(kind=KIND).count() == 3


def test_a_reminder_lands_on_the_first_run_inside_the_window(frozen, world):
    share(world)

    assert run_at(frozen, END - 7 * DAY - dt.timedelta(seconds=1)) == 0
    assert run_at(frozen, END - 7 * DAY) == 3


def test_a_sharing_that_ended_while_beat_was_down_is_not_reminded_after_its_end(frozen, world):
    share(world)

    assert run_at(frozen, END) == 0
    assert run_at(frozen, END + DAY) == 0


def test_two_runs_at_once_write_each_reminder_once(frozen, world, monkeypatch):
    share(world)
    assert run_at(frozen, END - 3 * DAY) == 3

    # A run that checked before the other one committed finds nothing written, and inserts: the key holds.
    real_filter = Message.objects.filter

    def nothing_written_yet(*args, **kwargs):
        return real_filter(*args, **kwargs).none() if "key__in" in kwargs else real_filter(*args, **kwargs)

    monkeypatch.setattr(reminders.Message.objects, "filter", nothing_written_yet)
    assert sharing_reminders_send(now=END - 3 * DAY) == 0
    monkeypatch.undo()
    assert Message.objects.filter(kind=KIND).count() == 3


def test_moving_the_end_re_arms_the_reminder(frozen, world):
    (sharing,) = share(world)
    assert run_at(frozen, END - 6 * DAY) == 3

    frozen(END - 5 * DAY)
    new_end = END + 10 * DAY
    sharing_update(actor=world, sharing=sharing, changes={"end_at": new_end})

    assert run_at(frozen, END - 4 * DAY) == 0  # the new end is 14 days away
    assert run_at(frozen, new_end - 7 * DAY) == 3
    assert run_at(frozen, new_end - 6 * DAY) == 0
    assert Message.objects.filter(kind=KIND).count() == 6


def test_a_stopped_sharing_and_an_open_ended_one_are_not_reminded(frozen, world):
    (stopped,) = share(world)
    share(world, end_at=None)
    sharing_stop(actor=world, sharing=stopped, now=NOW + 2 * DAY)

    assert run_at(frozen, END - 3 * DAY) == 0


def test_each_side_follows_its_own_setting_and_the_recipient_switch(frozen, world, beneficiary_org, owner_org):
    Organisation.objects.filter(pk=owner_org.pk).update(reminder_days=None)  # the owner wants none
    Organisation.objects.filter(pk=beneficiary_org.pk).update(reminder_days=2)
    share(world)
    share(world, notification_enabled=False, end_at=END + dt.timedelta(hours=1))

    assert run_at(frozen, END - 6 * DAY) == 0
    assert run_at(frozen, END - 2 * DAY + dt.timedelta(hours=1)) == 1
    assert reminded() == ["admin@buildco.example"]


def test_a_contract_gets_one_reminder_for_its_machines_ending_that_day(frozen, world, owner_org):
    contract = Contract.objects.create(owner=owner_org, reference="CTR/2026/0042")
    machines = [MachineFactory(organisation=owner_org, model="320 GC", serial_number=f"SN{n}") for n in range(4)]
    # Three lines end on 21 July (one of them later that day), one on 25 July.
    for machine, end in zip(machines, [END, END, END + dt.timedelta(hours=8), END + 4 * DAY], strict=True):
        share(world, machines=[machine], end_at=end, contract_id=contract.pk, reference="CTR/2026/0042")

    assert run_at(frozen, END - 7 * DAY) == 3  # one per person, not one per machine
    message = Message.objects.filter(kind=KIND, recipient="admin@rentandgo.example").get()
    assert message.context["machine_count"] == 3
    assert message.context["contract_reference"] == "CTR/2026/0042"
    recipients_copy = Message.objects.filter(kind=KIND, recipient="admin@buildco.example").get()
    assert recipients_copy.context["contract_reference"] == ""  # the contract is the owner's business

    assert run_at(frozen, END - 7 * DAY + dt.timedelta(hours=8)) == 0  # the later line was in that reminder
    assert run_at(frozen, END - 3 * DAY) == 3  # 25 July: its own day
    assert Message.objects.filter(kind=KIND).count() == 6


def test_the_reminders_say_it_in_the_recipients_language_and_date_style(frozen, world, beneficiary_admin):
    beneficiary_admin.language = "fr"
    beneficiary_admin.save()
    (sharing,) = share(world, reference="LOC-881")
    run_at(frozen, END - 7 * DAY)

    to_owner = message_email(Message.objects.get(kind=KIND, recipient="admin@rentandgo.example"))
    assert to_owner.subject == "The sharing “LOC-881” with BuildCo ends on 21 Jul 2026"
    assert "Your sharing with BuildCo ends on 21 Jul 2026, 10:00 (Europe/Paris)." in to_owner.body
    assert "CAT 320 GC" in to_owner.body
    assert f"/sharings/{sharing.pk}/" in to_owner.body

    to_recipient = message_email(Message.objects.get(kind=KIND, recipient="admin@buildco.example"))
    assert to_recipient.subject == "Le partage « LOC-881 » de Rent & Go se termine le 21 juil. 2026"
    html = to_recipient.alternatives[0][0]
    assert "21 juil. 2026, 10:00" in html
    assert "CAT 320 GC" in html
    assert f"/sharings/{sharing.pk}/" in html


# --- "ending soon": the share centre and the API ---------------------------------------------------------------------


@pytest.fixture
def ending(frozen, world, owner_org):
    """Sharings ending in 2, 6 and 12 days, an open-ended one and one stopped, seen 10 days after NOW."""
    frozen(NOW)
    today = NOW + 10 * DAY
    rows = {
        name: share(world, end_at=today + days * DAY, reference=name)[0]
        for name, days in (("two-days", 2), ("six-days", 6), ("twelve-days", 12))
    }
    rows["open-ended"] = share(world, end_at=None, reference="open-ended")[0]
    rows["halted"] = share(world, end_at=today + DAY, reference="halted")[0]
    sharing_stop(actor=world, sharing=rows["halted"], now=NOW + 5 * DAY)
    frozen(today)
    return rows


def test_the_share_centre_filters_sharings_ending_within_the_organisations_days(client, owner_admin, owner_org, ending):
    client.force_login(owner_admin)

    page = client.get("/", {"period": "ending_soon", "view": "list"}).content.decode()
    assert "two-days" in page
    assert "six-days" in page
    assert not any(name in page for name in ("twelve-days", "open-ended", "halted"))

    owner_org.reminder_days = 3
    owner_org.save()
    page = client.get("/", {"period": "ending_soon", "view": "list"}).content.decode()
    assert "two-days" in page
    assert "six-days" not in page


def test_the_api_filters_ending_soon_for_each_side_by_its_own_days(admin_api, beneficiary_api, beneficiary_org, ending):
    def references(api, **params):
        rows = api.get("sharings", {"period": "ending_soon", **params}).json()["data"]["rows"]
        return sorted(row["reference"] for row in rows)

    assert references(admin_api) == ["six-days", "two-days"]
    beneficiary_org.reminder_days = None  # no reminders: "ending soon" still spans the default 7 days
    beneficiary_org.save()
    assert references(beneficiary_api, direction="incoming") == ["six-days", "two-days"]
    beneficiary_org.reminder_days = 14
    beneficiary_org.save()
    assert references(beneficiary_api) == ["six-days", "twelve-days", "two-days"]

    refused = admin_api.get("sharings", {"period": "soonish"})
    assert refused.status_code == 400
    assert "period" in refused.json()["error"]["fields"]


# --- the organisation's setting -----------------------------------------------------------------------------------


def test_admins_choose_the_days_or_no_reminder_on_the_settings_page(client, owner_admin, owner_member, owner_org):
    assert owner_org.reminder_days == 7
    client.force_login(owner_admin)
    page = client.get("/accounts/organisation/").content.decode()
    assert "Reminder before a sharing ends" in page
    base = {"name": owner_org.name, "timezone": owner_org.timezone, "language": "en"}

    assert client.post("/accounts/organisation/", {**base, "reminder_days": "14"}).status_code == 302
    owner_org.refresh_from_db()
    assert owner_org.reminder_days == 14
    assert client.post("/accounts/organisation/", {**base, "reminder_days": ""}).status_code == 302
    owner_org.refresh_from_db()
    assert owner_org.reminder_days is None
    refused = client.post("/accounts/organisation/", {**base, "reminder_days": "4000"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert AuditEvent.objects.filter(target_type="organisation", action="updated").count() == 2

    client.force_login(owner_member)
    assert client.post("/accounts/organisation/", {**base, "reminder_days": "3"}).status_code == 403
    owner_org.refresh_from_db()
    assert owner_org.reminder_days is None


@pytest.mark.parametrize("days", [0, 91, True, "7", 2.5])
def test_the_service_refuses_days_out_of_range(admin_actor, owner_org, days):
    with pytest.raises(InvalidInput) as refused:
        organisation_update(
            actor=admin_actor,
            organisation=owner_org,
            name="Rent & Go",
            timezone="UTC",
            language="en",
            reminder_days=days,
        )
    assert refused.value.field == "reminder_days"
