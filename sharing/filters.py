"""The one FilterSet of sharings, shared by the share centre's HTML list, its CSV export and the API.

It always filters a queryset from sharing.selectors: what the organisation owns or receives, narrowed by `direction`
to sharings_outgoing or sharings_incoming. Filters on machines or text keep the rows whose id is in a set (EXISTS or
InSet), so a sharing is never listed twice. Date filters read the dates typed in the active time zone (the
organisation's in the portal)."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation
from fleet.models import Machine
from fleet.selectors import workspaces_of
from hiboo_connect.dates import validate_day
from hiboo_connect.lookups import InSet

from . import selectors
from .lifecycle import SharingStatus
from .models import ReceivedMachine, SharingMachine


class Direction(TextChoices):
    OUTGOING = "outgoing", _("Shared by us")
    INCOMING = "incoming", _("Shared with us")


class Period(TextChoices):
    CURRENT = "current", _("Current")
    UPCOMING = "upcoming", _("Upcoming")
    PAST = "past", _("Past")
    ENDING_SOON = "ending_soon", _("Ending soon")


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


class SharingFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            # Said next to the second date: with the two swapped, no sharing could be listed.
            self.add_error("date_to", _("This date is before the first one: give a day on or after it."))
        return cleaned


class SharingFilterSet(django_filters.FilterSet):
    direction = django_filters.ChoiceFilter(label=_("Direction"), choices=Direction.choices, method="filter_direction")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=SharingStatus.choices)
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    period = django_filters.ChoiceFilter(
        label=_("Period"), choices=Period.choices, method="filter_period", empty_label=_("Any time")
    )
    # A typed day outside 1900-2099 is refused next to its field (DESIGN §3), never shifted into a time zone.
    date_from = django_filters.DateFilter(
        label=pgettext_lazy("date range", "From"), method="filter_date_from", validators=[validate_day]
    )
    date_to = django_filters.DateFilter(
        label=pgettext_lazy("date range", "To"), method="filter_date_to", validators=[validate_day]
    )
    workspace = django_filters.ModelChoiceFilter(
        label=_("Workspace"),
        queryset=workspaces_of(None),  # replaced by the organisation's workspaces in __init__
        method="filter_workspace",
        empty_label=_("All workspaces"),
    )
    reference = django_filters.CharFilter(label=_("Reference"), field_name="reference", lookup_expr="exact")
    asset_id = django_filters.UUIDFilter(label=_("Machine id"), method="filter_asset")
    recipient = django_filters.CharFilter(label=_("Recipient"), field_name="recipient_email", lookup_expr="iexact")
    contract = django_filters.CharFilter(label=_("Contract"), method="filter_contract")
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("Latest start first"),
        fields=(
            ("start_at", "start"),
            ("end_at", "end"),
            ("reference", "reference"),
            ("status", "status"),
            ("created_at", "created"),
        ),
        # The descending labels are spelled out: django-filter builds them from "%s (descending)" when the class is
        # defined, in the language active then (English), so they stayed English on French pages.
        field_labels={
            "start_at": _("Start"),
            "-start": _("Start (descending)"),
            "end_at": _("End"),
            "-end": _("End (descending)"),
            "reference": _("Reference"),
            "-reference": _("Reference (descending)"),
            "status": _("Status"),
            "-status": _("Status (descending)"),
            "created_at": _("Created"),
            "-created": _("Created (descending)"),
        },
    )

    class Meta:
        fields: list[str] = []
        form = SharingFilterForm

    def __init__(self, data=None, *, organisation: Organisation, now: dt.datetime | None = None, **kwargs):
        self.organisation = organisation
        self.now = now or timezone.now()
        # One direction starts from its own queryset (`owner = X`, or `beneficiary = X`), never from both sides ANDed
        # with one: PostgreSQL estimates `(owner = X OR beneficiary = X) AND owner = X` as if the two were independent
        # (a hundredth of the rows), picks nested loops for 10,000 rows, and no index serves the order of an OR.
        self.direction = (data or {}).get("direction") if "queryset" not in kwargs else None
        kwargs.setdefault("queryset", self._sharings_of_direction(organisation, self.direction))
        super().__init__(data, **kwargs)
        self.filters["workspace"].queryset = workspaces_of(organisation)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # A stable order under every sort, so pagination never shows a row twice or skips one.
        ordering = [*queryset.query.order_by] or ["-start_at"]
        return queryset.order_by(*ordering, "-created_at", "pk")

    def side(self, direction: str):
        """This list's filters on one direction's sharings (the API reads both sides apart and merges them: selectors
        say why), without a FilterSet for each side: each copies every filter and builds its form again."""
        return self.filter_queryset(self._sharings_of_direction(self.organisation, direction))

    @staticmethod
    def _sharings_of_direction(organisation, direction):
        if direction == Direction.OUTGOING:
            return selectors.sharings_outgoing(organisation)
        if direction == Direction.INCOMING:
            return selectors.sharings_incoming(organisation)
        return selectors.sharings_visible_to(organisation)

    def filter_direction(self, queryset, name, value):
        if value == self.direction:
            return queryset  # the queryset already starts from that direction
        selector = selectors.sharings_incoming if value == Direction.INCOMING else selectors.sharings_outgoing
        return queryset & selector(self.organisation)

    def filter_search(self, queryset, name, value):
        """Sharings whose reference, recipient, recipient organisation or owner, or one of whose machines (by make,
        model, serial number, or the name the organisation gave a received machine) contains the text. Each of these
        is its own query of the list's rows, served by a trigram index on PostgreSQL (hiboo_connect/trigram.py); the
        list keeps the rows found by any of them. An OR of them all would scan every row of the organisation, once
        per count of the status chips."""
        value = value.strip()
        if not value:
            return queryset
        described = Q(make__icontains=value) | Q(model__icontains=value) | Q(serial_number__icontains=value)
        own_machines = Machine.objects.filter(described, organisation=self.organisation).values("pk")
        # The beneficiary finds its received machines by what they are and under the names it gave them.
        received_machines = ReceivedMachine.objects.filter(
            Q(name__icontains=value)
            | Q(machine__make__icontains=value)
            | Q(machine__model__icontains=value)
            | Q(machine__serial_number__icontains=value),
            organisation=self.organisation,
        ).values("machine_id")
        owners = Organisation.objects.filter(name__icontains=value).values("pk")
        in_list = [
            queryset.filter(condition).order_by().values("pk")
            for condition in (
                Q(reference__icontains=value),
                Q(recipient_email__icontains=value),
                Q(recipient_organisation_name__icontains=value),
                Q(owner__in=owners),
            )
        ]
        # The sharings of the machines found need no check of the list's scope here: the list itself applies it.
        of_machines = [
            SharingMachine.objects.filter(machine__in=machines).values("sharing_id")
            for machines in (own_machines, received_machines)
        ]
        rows = in_list[0].union(*in_list[1:], *of_machines)
        return queryset.filter(InSet(F("pk"), rows))

    def filter_period(self, queryset, name, value):
        now = self.now
        if value == Period.CURRENT:
            return queryset.window_reaches(now).filter(start_at__lte=now)
        if value == Period.UPCOMING:
            return queryset.window_reaches(now).filter(start_at__gt=now)
        if value == Period.ENDING_SOON:
            # Not over yet, and ending within the organisation's reminder days (its expiry reminders' window).
            horizon = now + dt.timedelta(days=self.organisation.ending_soon_days)
            return queryset.window_reaches(now).filter(end_at__lte=horizon)
        return queryset.window_ended_by(now)

    def filter_date_from(self, queryset, name, value):
        # The window [start, min(end, stopped)) reaches past the first moment of the `from` day.
        return queryset.window_reaches(_start_of_day(value))

    def filter_date_to(self, queryset, name, value):
        # The window starts before the `to` day is over.
        return queryset.filter(start_at__lt=_start_of_day(value + dt.timedelta(days=1)))

    def filter_workspace(self, queryset, name, value):
        in_owner_workspace = SharingMachine.objects.filter(sharing=OuterRef("pk"), machine__workspaces=value)
        in_received_workspace = ReceivedMachine.objects.filter(
            organisation=self.organisation, workspaces=value, machine__sharing_machines__sharing=OuterRef("pk")
        )
        return queryset.filter(Exists(in_owner_workspace) | Exists(in_received_workspace))

    def filter_asset(self, queryset, name, value):
        # The machine's sharings through its index, then the list's conditions on those few rows (not a probe of
        # the machine for every row of the list).
        return queryset.filter(InSet(F("pk"), SharingMachine.objects.filter(machine_id=value).values("sharing_id")))

    def filter_contract(self, queryset, name, value):
        # The organisation's own contracts: a beneficiary never filters by another organisation's contracts.
        return queryset.filter(owner=self.organisation, contract__reference=value)
