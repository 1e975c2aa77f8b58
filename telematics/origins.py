"""The telematics sources as fleet's data origins (fleet/data_origins.py): the owner of a machine sees which of its
sources list it; nobody else learns how an owner's data arrives."""

from django.urls import reverse

from fleet.data_origins import DataOrigin

from .models import SourceMachine


def machine_data_origins(*, organisation, machine) -> list[DataOrigin]:
    if machine.organisation_id != organisation.pk:
        return []
    links = (
        SourceMachine.objects.filter(machine=machine, source__organisation=organisation)
        .select_related("source")
        .order_by("-last_listed_at")
    )
    return [
        DataOrigin(
            name=link.source.name,
            url=reverse("telematics:source_edit", args=[link.source_id]),
            last_listed_at=link.last_listed_at,
        )
        for link in links
    ]
