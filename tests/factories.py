"""factory_boy factories for the three standing actors and their data. Factories build rows directly (test set-up);
behaviour under test always goes through the services."""

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import Contact, Organisation, Role, User
from fleet.data_packs import ALL_DATA_PACKS
from fleet.models import FaultCode, Machine, MachineCategory, Position, Reading, Workspace
from sharing.lifecycle import sharing_status
from sharing.models import ReceivedMachine, Sharing, SharingMachine


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.MEMBER
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    role = Role.ADMIN


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class MachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Machine

    organisation = factory.SubFactory(OrganisationFactory)
    make = "Caterpillar"
    model = "320 GC"
    serial_number = factory.Sequence(lambda n: f"CAT0320GC{n:05d}")
    category = MachineCategory.EXCAVATOR
    year = 2022


class SharingFactory(factory.django.DjangoModelFactory):
    """A sharing row as it would be stored; its status is computed from the fields at build time."""

    class Meta:
        model = Sharing
        skip_postgeneration_save = True

    owner = factory.SubFactory(OrganisationFactory)
    beneficiary = factory.SubFactory(OrganisationFactory)
    recipient_email = factory.Sequence(lambda n: f"recipient{n}@example.com")
    sender_label = "factory"
    start_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    end_at = None
    stopped_at = None
    data_packs = factory.LazyFunction(lambda: list(ALL_DATA_PACKS))
    status = factory.LazyAttribute(
        lambda sharing: sharing_status(
            beneficiary_known=sharing.beneficiary is not None,
            start_at=sharing.start_at,
            end_at=sharing.end_at,
            stopped_at=sharing.stopped_at,
            now=timezone.now(),
        )
    )

    @factory.post_generation
    def machines(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        SharingMachine.objects.bulk_create([SharingMachine(sharing=obj, machine=machine) for machine in extracted])
        if obj.beneficiary_id:
            for machine in extracted:
                ReceivedMachine.objects.get_or_create(
                    organisation=obj.beneficiary, machine=machine, defaults={"name": machine.default_display_name}
                )


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    machine = factory.SubFactory(MachineFactory)
    metric = "operating_hours"
    timestamp = factory.LazyFunction(timezone.now)
    value = 1.0


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    machine = factory.SubFactory(MachineFactory)
    timestamp = factory.LazyFunction(timezone.now)
    latitude = 48.85
    longitude = 2.35


class FaultCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FaultCode

    machine = factory.SubFactory(MachineFactory)
    timestamp = factory.LazyFunction(timezone.now)
    identifier = "110-0"
    description = "Engine coolant temperature high"
    severity = "high"
