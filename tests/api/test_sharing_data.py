"""sharing.api.sharing_data builds a sharing's API representation without DRF's field-by-field walk (the lists, the
contract applies and the events of a lifecycle batch all use it). It must give exactly what SharingSerializer's
declared fields give, for every shape a sharing can take."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework import serializers

from contracts.models import Contract
from sharing.api import SharingSerializer, sharing_data
from sharing.models import Sharing
from tests.factories import MachineFactory, OrganisationFactory, SharingFactory

UTC = dt.UTC


def _by_the_fields(sharing, now) -> dict:
    """What DRF's own Serializer.to_representation makes of SharingSerializer's declared fields."""
    return dict(serializers.Serializer.to_representation(SharingSerializer(context={"now": now}), sharing))


def _shapes(owner, beneficiary):
    machines = [MachineFactory(organisation=owner) for _n in range(3)]
    contract = Contract.objects.create(owner=owner, reference="CONTRACT-7")
    now = timezone.now()
    return [
        # open-ended, all machines, no properties
        SharingFactory(owner=owner, beneficiary=beneficiary, machines=machines),
        # a pending invitation (no beneficiary yet) with properties, microseconds in its dates
        SharingFactory(
            owner=owner,
            beneficiary=None,
            recipient_organisation_name="Newco",
            start_at=now + dt.timedelta(days=2, microseconds=123),
            end_at=now + dt.timedelta(days=9),
            properties={"site": "Lyon", "customer": "Été & Co", "empty": ""},
            data_packs=["usage"],
            notification_enabled=False,
            machines=machines[:1],
        ),
        # stopped, managed by a contract, one machine
        SharingFactory(
            owner=owner,
            beneficiary=beneficiary,
            start_at=now - dt.timedelta(days=5),
            end_at=now + dt.timedelta(days=5),
            stopped_at=now - dt.timedelta(days=1),
            contract=contract,
            contract_line="L1",
            reference="PO 12",
            machines=machines[1:2],
        ),
        # ended, no machine links
        SharingFactory(
            owner=owner,
            beneficiary=beneficiary,
            start_at=dt.datetime(2020, 1, 1, tzinfo=UTC),
            end_at=dt.datetime(2020, 2, 1, 12, 30, tzinfo=UTC),
        ),
    ]


@pytest.mark.django_db
def test_sharing_data_is_what_the_declared_fields_give():
    owner, beneficiary = OrganisationFactory(name="Rent & Go"), OrganisationFactory(name="BuildCo")
    ids = [sharing.pk for sharing in _shapes(owner, beneficiary)]
    sharings = (
        Sharing.objects.filter(pk__in=ids)
        .select_related("owner", "beneficiary", "contract")
        .prefetch_related("sharing_machines")
    )
    for now in (timezone.now(), timezone.now() + dt.timedelta(days=30)):
        for sharing in sharings:
            assert sharing_data(sharing, now=now) == _by_the_fields(sharing, now)
            assert list(sharing_data(sharing, now=now)) == list(_by_the_fields(sharing, now))


@pytest.mark.django_db
def test_the_serializer_answers_with_sharing_data():
    owner, beneficiary = OrganisationFactory(), OrganisationFactory()
    sharings = _shapes(owner, beneficiary)
    now = timezone.now()
    many = SharingSerializer(sharings, many=True, context={"now": now}).data
    assert list(many) == [sharing_data(sharing, now=now) for sharing in sharings]
    assert SharingSerializer(sharings[1], context={"now": now}).data == sharing_data(sharings[1], now=now)
