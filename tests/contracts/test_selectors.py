"""The contract reads in plain SQL (contracts/selectors.py over hiboo_connect/rows.py) must make the same objects the
ORM makes: every field converted (JSON, dates with microseconds, UUIDs on SQLite), the owner, the beneficiary or
none, every machine link of a sharing of several machines, and the machines themselves when asked."""

import datetime as dt

from django.db.models import Prefetch

from contracts import selectors
from contracts.models import Contract
from sharing.api import sharing_data
from sharing.models import Sharing, SharingMachine
from tests.factories import MachineFactory, SharingFactory

DAY = dt.timedelta(days=1)


def _orm(contract) -> list[Sharing]:
    links = SharingMachine.objects.select_related("machine").order_by("pk")
    return list(
        Sharing.objects.filter(contract=contract)
        .select_related("owner", "beneficiary", "contract")
        .prefetch_related(Prefetch("sharing_machines", queryset=links))
        .order_by("created_at", "pk")
    )


def test_the_plain_reads_make_what_the_orm_makes(now, owner_org, beneficiary_org):
    contract = Contract.objects.create(owner=owner_org, reference="CTR-7", desired_state={"status": "active"})
    other = Contract.objects.create(owner=owner_org, reference="CTR-8")
    machines = [MachineFactory(organisation=owner_org) for _n in range(3)]
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=machines[:2], contract=contract)
    SharingFactory(
        owner=owner_org,
        beneficiary=None,
        recipient_organisation_name="Newco",
        machines=machines[2:],
        contract=contract,
        start_at=now + dt.timedelta(days=2, microseconds=123),
        end_at=now + 9 * DAY,
        properties={"site": "Lyon", "customer": "Été & Co"},
        data_packs=["usage"],
        created_at=now + DAY,
    )
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=machines[:1], contract=other)

    found = selectors.contract_find(organisation=owner_org, reference="CTR-7")
    assert (found.pk, found.desired_state, found.generation) == (contract.pk, {"status": "active"}, 0)
    assert selectors.contract_find(organisation=beneficiary_org, reference="CTR-7") is None

    read = selectors.contract_sharings_of([found], machines=True)
    expected = _orm(contract)
    assert [sharing_data(sharing, now=now) for sharing in read] == [
        sharing_data(sharing, now=now) for sharing in expected
    ]
    assert [[str(link.machine) for link in sharing.sharing_machines.all()] for sharing in read] == [
        [str(link.machine) for link in sharing.sharing_machines.all()] for sharing in expected
    ]
    assert [len(sharing.sharing_machines.all()) for sharing in read] == [2, 1]
    assert all(sharing.contract is found for sharing in read)
