import datetime as dt

from sharing.lifecycle import SharingStatus
from sharing.selectors import readings_visible_to
from sharing.services import sharing_create, sharing_stop
from tests.factories import ReadingFactory

UTC = dt.UTC


def test_create_stop_and_read(frozen, admin_actor, machine, beneficiary_admin):
    frozen(dt.datetime(2026, 7, 12, 9, tzinfo=UTC))
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 7, 1, tzinfo=UTC),
        end_at=dt.datetime(2026, 7, 30, tzinfo=UTC),
    )
    assert sharing.status == SharingStatus.IN_PROGRESS
    ReadingFactory(machine=machine, timestamp=dt.datetime(2026, 6, 30, tzinfo=UTC))
    inside = ReadingFactory(machine=machine, timestamp=dt.datetime(2026, 7, 5, tzinfo=UTC))
    visible = readings_visible_to(organisation=beneficiary_admin.organisation, machine=machine)
    assert list(visible) == [inside]
    sharing_stop(actor=admin_actor, sharing=sharing)
    sharing.refresh_from_db()
    assert sharing.status == SharingStatus.STOPPED
