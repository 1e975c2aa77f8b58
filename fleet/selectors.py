"""Reads of machines scoped to an organisation's own fleet. What it received is read through sharing.selectors."""

from accounts.models import Organisation

from .models import Machine


def machines_owned_by(organisation: Organisation):
    return Machine.objects.filter(organisation=organisation)
