"""The one FilterSet of the fleet list and the fleet map (own and received machines together). It always filters
fleet_of(organisation), the scoped queryset of what the organisation owns or receives; searches and workspace filters
use EXISTS subqueries so a machine is never listed twice."""

import datetime as dt

import django_filters
from django.db.models import Exists, OuterRef, Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .models import Machine, MachineCategory, Position, Reading
from .selectors import FLEET_METRICS, fleet_of, received_machines_of, workspaces_of


class Origin(TextChoices):
    OWN = "own", _("Our machines")
    RECEIVED = "received", _("Received machines")


class Data(TextChoices):
    SILENT = "silent", _("Our machines without data for a day or more")


#: How long a machine may stay silent before the "without data" filter lists it.
SILENT_AFTER = dt.timedelta(days=1)


class MachineFilterSet(django_filters.FilterSet):
    origin = django_filters.ChoiceFilter(
        label=_("Origin"), choices=Origin.choices, method="filter_origin", empty_label=_("All machines")
    )
    workspace = django_filters.ModelChoiceFilter(
        label=_("Workspace"),
        queryset=workspaces_of(None),  # replaced by the organisation's workspaces in __init__
        method="filter_workspace",
        empty_label=_("All workspaces"),
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=MachineCategory.choices, empty_label=_("All categories")
    )
    data = django_filters.ChoiceFilter(
        label=_("Data"), choices=Data.choices, method="filter_data", empty_label=_("With or without data")
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")

    class Meta:
        model = Machine
        fields: list[str] = []

    def __init__(self, data=None, *, organisation: Organisation, **kwargs):
        self.organisation = organisation
        kwargs.setdefault("queryset", fleet_of(organisation))
        super().__init__(data, **kwargs)
        self.filters["workspace"].queryset = workspaces_of(organisation)

    def filter_queryset(self, queryset):
        # A stable order, so pagination never shows a machine twice or skips one.
        return super().filter_queryset(queryset).order_by("sort_name", "serial_number", "pk")

    def filter_origin(self, queryset, name, value):
        # The queryset holds only what we own or receive: what we do not own is what we receive.
        if value == Origin.OWN:
            return queryset.filter(organisation=self.organisation)
        return queryset.exclude(organisation=self.organisation)

    def _received(self):
        return received_machines_of(self.organisation).filter(machine=OuterRef("pk"))

    def filter_workspace(self, queryset, name, value):
        # Our machines sit in our workspaces; received ones in the workspaces we placed them in (never the owner's).
        in_own_workspace = Machine.workspaces.through.objects.filter(machine=OuterRef("pk"), workspace=value)
        return queryset.filter(
            (Q(organisation=self.organisation) & Exists(in_own_workspace))
            | Exists(self._received().filter(workspaces=value))
        )

    def filter_data(self, queryset, name, value):
        """Our machines that sent no position, engine status or operating hours for a day or more: what the fleet
        list's "last seen" reads, each an index range scan. Received machines are left out: whether an owner's machine
        still reports, outside what was shared, is the owner's business."""
        since = timezone.now() - SILENT_AFTER
        recent_readings = Reading.objects.filter(machine=OuterRef("pk"), metric__in=FLEET_METRICS, timestamp__gte=since)
        recent_positions = Position.objects.filter(machine=OuterRef("pk"), timestamp__gte=since)
        return queryset.filter(organisation=self.organisation).exclude(
            Exists(recent_readings) | Exists(recent_positions)
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(make__icontains=value)
            | Q(model__icontains=value)
            | Q(serial_number__icontains=value)
            | Exists(self._received().filter(name__icontains=value))
        )
