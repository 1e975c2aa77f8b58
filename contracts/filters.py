"""The one FilterSet of contracts, shared by the API's list (and the portal's, which reads the same one)."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from sharing.models import SharingMachine

from . import selectors
from .models import ContractStatus


class ContractFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=ContractStatus.choices)
    recipient = django_filters.CharFilter(label=_("Recipient"), field_name="recipient_email", lookup_expr="iexact")
    asset_id = django_filters.UUIDFilter(label=_("Machine id"), method="filter_asset")
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    machine = django_filters.CharFilter(label=_("Machine"), method="filter_machine")
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        empty_label=_("Last applied first"),
        fields=(("reference", "reference"), ("status", "status"), ("recipient_email", "recipient")),
        # Spelled out: django-filter builds "(descending)" labels once, in the language active at import.
        field_labels={
            "reference": _("Reference"),
            "-reference": _("Reference (descending)"),
            "status": _("Status"),
            "-status": _("Status (descending)"),
            "recipient_email": _("Recipient"),
            "-recipient": _("Recipient (descending)"),
        },
    )

    class Meta:
        fields: list[str] = []

    def __init__(self, data=None, *, organisation: Organisation, **kwargs):
        kwargs.setdefault("queryset", selectors.contracts_of(organisation))
        super().__init__(data, **kwargs)

    def filter_queryset(self, queryset):
        # A stable order under every sort, so pagination never shows a row twice or skips one.
        queryset = super().filter_queryset(queryset)
        ordering = [*queryset.query.order_by] or ["-last_applied_at"]
        return queryset.order_by(*ordering, "reference", "pk")

    def filter_asset(self, queryset, name, value):
        return queryset.filter(
            Exists(SharingMachine.objects.filter(sharing__contract=OuterRef("pk"), machine_id=value))
        )

    def filter_machine(self, queryset, name, value):
        """Contracts one of whose sharings shares a machine whose serial number, make or model contains the text."""
        value = value.strip()
        if not value:
            return queryset
        described = (
            Q(machine__serial_number__icontains=value)
            | Q(machine__make__icontains=value)
            | Q(machine__model__icontains=value)
        )
        return queryset.filter(Exists(SharingMachine.objects.filter(described, sharing__contract=OuterRef("pk"))))

    def filter_search(self, queryset, name, value):
        """The reference, the recipient or the customer (a property of the desired state) contains the text."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(recipient_email__icontains=value)
            | Q(desired_state__properties__customer__icontains=value)
        )
