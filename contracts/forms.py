"""The portal's contract-wide actions as forms: each one reads what the admin typed and builds the contract's next
desired state from its last one. Nothing is decided here: the desired state goes to services.contract_apply, a dry run
first, exactly as the API's PUT does."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fleet.selectors import machines_owned_by
from hiboo_connect.dates import validate_day

from .models import Contract, ContractStatus
from .plan import Desired, Line, desired_from_state
from .services import LINE_REFERENCE_MAX

if TYPE_CHECKING:  # a development dependency only
    from django_stubs_ext import StrOrPromise


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


def _day_field(label, *, help_text="", required=True):
    return forms.DateField(
        label=label, required=required, widget=DayInput(), validators=[validate_day], help_text=help_text
    )


def start_of(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the active time zone (the organisation's in the portal)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def end_of(day: dt.date) -> dt.datetime:
    """An end day is included whole, as in the CSV import: a rental until the 31st ends at midnight that night."""
    return start_of(day + dt.timedelta(days=1))


class ContractActionForm(forms.Form):
    """One contract-wide action. `desired(now)` is the contract's next desired state; `fingerprint()` names what was
    typed, so that an apply is the plan that was previewed (a form changed since asks for a new preview)."""

    title: StrOrPromise = ""
    intro: StrOrPromise = ""

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.current = desired_from_state(contract.reference, contract.desired_state)

    def desired(self, now: dt.datetime) -> Desired:
        raise NotImplementedError

    def fingerprint(self) -> str:
        typed = {name: str(self.cleaned_data.get(name)) for name in self.fields}
        text = json.dumps([self.contract.pk.hex, self.contract.generation, typed], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


class ExtendForm(ContractActionForm):
    title = _("Extend the contract")
    intro = _(
        "Every machine still on the contract gets the new end date; lines that have already ended keep theirs. "
        "An end date is included whole."
    )
    end_day = _day_field(_("New end date"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.current.end_at is not None:
            end = timezone.localtime(self.current.end_at)
            # An end at midnight is the end of the day before (as the CSV import writes it): show that last day.
            last_day = end.date() - dt.timedelta(days=1) if end.time() == dt.time.min else end.date()
            self.initial.setdefault("end_day", last_day)

    def desired(self, now):
        end = end_of(self.cleaned_data["end_day"])
        lines = tuple(
            line if line.end_at is not None and line.end_at <= now else replace(line, end_at=None)
            for line in self.current.lines
        )
        return replace(self.current, end_at=end, lines=lines)


class CompleteForm(ContractActionForm):
    title = _("Stop everything")
    intro = _(
        "The contract is completed: every sharing that has started stops now (the customer keeps the history of the "
        "period), and every sharing that has not started yet is deleted."
    )

    def desired(self, now):
        return replace(self.current, status=ContractStatus.COMPLETED)


class _MachineFormMixin:
    """A machine of the organisation, typed by its serial number (as on the machine's plate and in the CSV file)."""

    contract: Contract
    cleaned_data: dict

    def clean_serial_number(self):
        serial = self.cleaned_data["serial_number"].strip()
        machines = list(machines_owned_by(self.contract.owner).filter(serial_number__iexact=serial)[:2])
        if not machines:
            raise forms.ValidationError(_("None of your machines has this serial number."))
        if len(machines) > 1:
            raise forms.ValidationError(_("Several of your machines have this serial number."))
        self.machine = machines[0]
        return serial

    def _start(self):
        day = self.cleaned_data.get("start_day")
        return start_of(day) if day else None


class AddMachineForm(_MachineFormMixin, ContractActionForm):
    title = _("Add a machine")
    intro = _("A new line: the machine is shared with the contract's recipient until the contract's end.")
    serial_number = forms.CharField(label=_("Serial number of the machine"), max_length=100)
    line_reference = forms.CharField(
        label=_("Line reference"),
        required=False,
        max_length=LINE_REFERENCE_MAX,
        help_text=_("Optional: your line's id."),
    )
    start_day = _day_field(_("Start date"), help_text=_("From the start of that day."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("start_day", timezone.localdate())

    def clean_line_reference(self):
        reference = self.cleaned_data["line_reference"].strip()
        if reference and any(line.line_reference == reference for line in self.current.lines):
            raise forms.ValidationError(_("The contract already has a line with this reference."))
        return reference

    def clean(self):
        cleaned = super().clean()
        machine = getattr(self, "machine", None)
        unreferenced = [line.asset_id for line in self.current.lines if not line.line_reference]
        if machine is not None and not cleaned.get("line_reference") and machine.pk in unreferenced:
            self.add_error("serial_number", _("This machine is already on the contract."))
        return cleaned

    def desired(self, now):
        line = Line(self.machine.pk, self.cleaned_data["line_reference"], self._start(), None)
        return replace(self.current, lines=(*self.current.lines, line))


class SwapMachineForm(_MachineFormMixin, ContractActionForm):
    title = _("Swap a machine")
    intro = _(
        "The machine of a line is replaced: its sharing stops (or is deleted if it has not started) and the new "
        "machine gets a new sharing from the start date. The machines of a sharing never change."
    )
    line = forms.ChoiceField(label=_("Line"))
    serial_number = forms.CharField(label=_("Serial number of the new machine"), max_length=100)
    start_day = _day_field(_("Start date of the new machine"), help_text=_("From the start of that day."))

    def __init__(self, *args, machine_labels: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = machine_labels or {}
        self.fields["line"].choices = [  # type: ignore[attr-defined]
            (str(index), self.line_label(line, labels)) for index, line in enumerate(self.current.lines)
        ]
        self.initial.setdefault("start_day", timezone.localdate())

    @staticmethod
    def line_label(line: Line, labels: dict) -> str:
        machine = labels.get(str(line.asset_id), str(line.asset_id))
        return f"{line.line_reference} · {machine}" if line.line_reference else str(machine)

    def clean(self):
        cleaned = super().clean()
        machine = getattr(self, "machine", None)
        index = cleaned.get("line")
        if machine is not None and index is not None and self.current.lines[int(index)].asset_id == machine.pk:
            self.add_error("serial_number", _("This machine is already on this line: choose another one."))
        return cleaned

    def desired(self, now):
        index = int(self.cleaned_data["line"])
        old = self.current.lines[index]
        new = Line(self.machine.pk, old.line_reference, self._start(), old.end_at)
        lines = list(self.current.lines)
        lines[index] = new
        return replace(self.current, lines=tuple(lines))


ACTIONS: dict[str, type[ContractActionForm]] = {
    "extend": ExtendForm,
    "complete": CompleteForm,
    "add": AddMachineForm,
    "swap": SwapMachineForm,
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 with or without a BOM, commas or semicolons, dates as dd/mm/yyyy or yyyy-mm-dd."),
    )
