"""The forms of the share centre. They only read and shape what was typed; every rule is the services' and
lifecycle.py's. Dates are typed in the active time zone (the organisation's) and come out as aware datetimes."""

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fleet.data_packs import ALL_DATA_PACKS, DataPack
from fleet.models import Machine
from fleet.selectors import machines_owned_by, workspaces_of

from . import lifecycle
from .models import Sharing

#: (form field, property key, label): the properties the portal offers a field for.
PROPERTY_FIELDS = (
    ("customer", "customer", _("Customer")),
    ("site", "site", _("Site")),
    ("contract", "contract", _("Contract")),
    ("purchase_order", "purchaseOrder", _("Purchase order")),
    ("project", "project", _("Project")),
    ("account_number", "accountNumber", _("Account number")),
)
PROPERTY_KEYS = {key for _field, key, _label in PROPERTY_FIELDS}
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_INPUT_FORMAT)


def _datetime_field(label, *, required=True, help_text=""):
    return forms.DateTimeField(label=label, required=required, widget=DateTimeLocalInput(), help_text=help_text)


def to_the_minute(moment: dt.datetime | None) -> dt.datetime | None:
    """What a datetime-local input can show: the same instant without seconds."""
    return moment.replace(second=0, microsecond=0) if moment is not None else None


class SharingFieldsMixin:
    """Reads the property fields back into the `properties` mapping the services take."""

    cleaned_data: dict[str, Any]  # the form's, which this mixes into

    def typed_properties(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(field, "") for field, key, _label in PROPERTY_FIELDS}

    def property_fields(self):
        return [self[field] for field, _key, _label in PROPERTY_FIELDS]


def _add_property_fields(form):
    for field, _key, label in PROPERTY_FIELDS:
        form.fields[field] = forms.CharField(label=label, required=False, max_length=255)


#: The new-sharing page's order of fields, which its error summary follows.
PAGE_ORDER = [
    "recipient_email",
    "recipient_organisation_name",
    "machines",
    "one_per_machine",
    "start_at",
    "end_at",
    "reference",
    *(field for field, _key, _label in PROPERTY_FIELDS),
    "data_packs",
    "notification_enabled",
]


class SharingCreateForm(SharingFieldsMixin, forms.Form):
    marks_required = True  # portal/field.html draws an asterisk by each required field

    recipient_email = forms.EmailField(
        label=_("Recipient's e-mail"),
        help_text=_("Pick someone from your contacts or type a new address."),
    )
    recipient_organisation_name = forms.CharField(
        label=_("Recipient's organisation"),
        required=False,
        max_length=200,
        help_text=_("Needed when the recipient has no account yet: they will be invited."),
    )
    start_at = _datetime_field(_("Start"))
    end_at = _datetime_field(_("End"), required=False, help_text=_("Leave empty for an open-ended sharing."))
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=255,
        help_text=_("A contract, order or site number both sides will recognise."),
    )
    data_packs = forms.MultipleChoiceField(
        label=_("Data packs"),
        choices=DataPack.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(ALL_DATA_PACKS),
        required=False,
    )
    notification_enabled = forms.BooleanField(label=_("Notify the recipient by e-mail"), required=False, initial=True)
    machines = forms.ModelMultipleChoiceField(
        label=_("Machines"), queryset=Machine.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    one_per_machine = forms.BooleanField(
        label=_("One sharing per machine"),
        required=False,
        initial=True,
        help_text=_("Recommended: a machine can then be stopped or swapped without touching the others."),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["machines"].queryset = machines_owned_by(organisation)
        _add_property_fields(self)
        self.order_fields(PAGE_ORDER)
        if not self.is_bound:
            self.initial.setdefault("start_at", to_the_minute(timezone.now()))

    def service_arguments(self) -> dict:
        """What the service takes, from what could be read: a field that could not be read (its own error already
        says why) is passed on empty, so the service's checks of every other field still run."""
        data = getattr(self, "cleaned_data", {})
        return {
            "machine_ids": [machine.pk for machine in data.get("machines") or []],
            "recipient_email": data.get("recipient_email", ""),
            "recipient_organisation_name": data.get("recipient_organisation_name", ""),
            "reference": data.get("reference", ""),
            "properties": self.typed_properties(),
            # An empty choice is passed on as such: the service says which pack is needed.
            "data_packs": data.get("data_packs", []),
            "notification_enabled": data.get("notification_enabled", False),
            "start_at": data.get("start_at"),
            "end_at": data.get("end_at"),
            "one_per_machine": data.get("one_per_machine", False),
        }


class MachinePickerForm(forms.Form):
    """The search and workspace filter above the machine checkboxes of a new sharing."""

    machine_q = forms.CharField(label=_("Search machines"), required=False)
    machine_workspace = forms.ModelChoiceField(
        label=_("Workspace"), queryset=workspaces_of(None), required=False, empty_label=_("All workspaces")
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["machine_workspace"].queryset = workspaces_of(organisation)


class Lock:
    """A field the rules no longer let change, with the reason (from lifecycle.py's refusals)."""

    def __init__(self, refusal: lifecycle.Refusal | None):
        self.locked = refusal is not None and refusal.conflict
        self.reason = refusal.message if refusal is not None and refusal.conflict else ""


def sharing_locks(sharing: Sharing, now: dt.datetime) -> dict[str, Lock]:
    """Which of the sharing's fields can still change, as lifecycle.py decides it (no rule written twice)."""
    status = sharing.status_at(now)
    dates = lifecycle.editable_dates(status=status, start_at=sharing.start_at, end_at=sharing.end_at, now=now)
    return {
        "start_at": Lock(dates.start_lock),
        "end_at": Lock(dates.end_lock),
        "data_packs": Lock(lifecycle.data_packs_change_refusal(status=status, start_at=sharing.start_at, now=now)),
    }


class SharingEditForm(SharingFieldsMixin, forms.Form):
    start_at = _datetime_field(_("Start"))
    end_at = _datetime_field(_("End"), required=False, help_text=_("Leave empty for an open-ended sharing."))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=255)
    recipient_email = forms.EmailField(label=_("Recipient's e-mail"))
    recipient_organisation_name = forms.CharField(label=_("Recipient's organisation"), required=False, max_length=200)
    notification_enabled = forms.BooleanField(label=_("Notify the recipient by e-mail"), required=False)
    data_packs = forms.MultipleChoiceField(
        label=_("Data packs"), choices=DataPack.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, sharing: Sharing, now: dt.datetime, **kwargs):
        properties = sharing.properties or {}
        initial = {
            "start_at": to_the_minute(sharing.start_at),
            "end_at": to_the_minute(sharing.end_at),
            "reference": sharing.reference,
            "recipient_email": sharing.recipient_email,
            "recipient_organisation_name": sharing.recipient_organisation_name,
            "notification_enabled": sharing.notification_enabled,
            "data_packs": list(sharing.data_packs),
            **{field: properties.get(key, "") for field, key, _label in PROPERTY_FIELDS},
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.sharing = sharing
        _add_property_fields(self)
        self.locks = sharing_locks(sharing, now)
        for name, lock in self.locks.items():
            if lock.locked:
                self.fields[name].disabled = True
        if sharing.beneficiary is not None:
            # Once the beneficiary is known, its name is the organisation's own.
            self.fields["recipient_organisation_name"].disabled = True
            self.fields["recipient_email"].help_text = _("Another user of %(organisation)s.") % {
                "organisation": sharing.beneficiary.name
            }

    def changes(self) -> dict:
        """Only what the user changed: unchanged fields are not sent, so an untouched locked date is never refused."""
        data = self.cleaned_data
        changed = set(self.changed_data)
        changes = {
            name: data[name]
            for name in (
                "start_at",
                "end_at",
                "reference",
                "recipient_email",
                "recipient_organisation_name",
                "notification_enabled",
                "data_packs",
            )
            if name in changed and not self.fields[name].disabled
        }
        if changed & {field for field, _key, _label in PROPERTY_FIELDS}:
            # Keys set through the API that the portal has no field for are kept as they are.
            kept = {key: value for key, value in (self.sharing.properties or {}).items() if key not in PROPERTY_KEYS}
            changes["properties"] = {**kept, **self.typed_properties()}
        return changes


class ReceivedMachineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    workspaces = forms.ModelMultipleChoiceField(
        label=_("Workspaces"), queryset=workspaces_of(None), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspaces"].queryset = workspaces_of(organisation).order_by("name")


class ExtensionRequestForm(forms.Form):
    """The beneficiary asks for a later end (sharing page of a received sharing)."""

    prefix = "extension"

    end_at = _datetime_field(
        _("End you need"), required=True, help_text=_("Later than the current end, in your organisation's time zone.")
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need more time, for the owner (optional)."),
    )


class ExtensionDeclineForm(forms.Form):
    """The owner's admin declines, with a word for the beneficiary."""

    prefix = "decline"

    message = forms.CharField(
        label=_("Message to the beneficiary"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why not, or what you can offer instead (optional)."),
    )
