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

    class Meta:
        fields: list[str] = []

    def __init__(self, data=None, *, organisation: Organisation, **kwargs):
        kwargs.setdefault("queryset", selectors.contracts_of(organisation))
        super().__init__(data, **kwargs)

    def filter_queryset(self, queryset):
        # A stable order, so pagination never shows a row twice or skips one.
        return super().filter_queryset(queryset).order_by("-last_applied_at", "reference", "pk")

    def filter_asset(self, queryset, name, value):
        return queryset.filter(
            Exists(SharingMachine.objects.filter(sharing__contract=OuterRef("pk"), machine_id=value))
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(recipient_email__icontains=value))
