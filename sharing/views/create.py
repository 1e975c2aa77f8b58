"""Creating a sharing: the form, its machine picker searched in place, the overlaps with other sharings shown as the
dates are typed, and the recipient typeahead from the organisation's contacts."""

import uuid

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.portal import organisation_page
from accounts.selectors import contact_get, contacts_search
from fleet.models import Workspace
from fleet.selectors import machines_owned_by
from hiboo_connect import pages

from .. import selectors, services
from ..forms import (
    MachinePickerForm,
    SharingCreateForm,
)
from .share_centre import machines_prefetch

MACHINE_PICKER_LIMIT = 100
#: Where the error summary's links go for the fields the page lays out itself.
ERROR_ANCHORS = {"machines": "machine-picker", "data_packs": "id_data_packs_0"}


def _picker_machines(organisation, *, query: str = "", workspace=None, selected_ids=()):
    """The organisation's own machines for the picker: the ones already ticked first (so a search never drops
    them), then those matching the search and workspace. Received machines are never offered."""
    owned = machines_owned_by(organisation).prefetch_related(
        Prefetch("workspaces", queryset=Workspace.objects.order_by("name"))
    )
    selected = list(owned.filter(pk__in=list(selected_ids))) if selected_ids else []
    matching = owned.exclude(pk__in=[machine.pk for machine in selected])
    if query:
        matching = matching.filter(
            Q(make__icontains=query) | Q(model__icontains=query) | Q(serial_number__icontains=query)
        )
    if workspace is not None:
        matching = matching.filter(workspaces=workspace)
    return selected, list(matching.order_by("make", "model", "serial_number")[:MACHINE_PICKER_LIMIT])


def _selected_machine_ids(data) -> list[str]:
    """The machine ids ticked, leaving out anything that is not one (a crafted value): the form names the error."""
    return [value for value in data.getlist("machines") if _is_uuid(value)]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _overlaps(organisation, form_data):
    """Open sharings of the chosen machines whose windows overlap the one typed: a warning, never a refusal."""
    form = SharingCreateForm(form_data, organisation=organisation)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    machines, start_at = data.get("machines"), data.get("start_at")
    if not machines or start_at is None:
        return []
    return list(
        selectors.sharings_overlapping(
            organisation=organisation,
            machine_ids=[machine.pk for machine in machines],
            start_at=start_at,
            end_at=data.get("end_at"),
        )
        .select_related("beneficiary")
        .prefetch_related(machines_prefetch())
        .order_by("start_at")[:20]
    )


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def sharing_create(request):
    organisation = request.organisation
    if request.method == "POST":
        form = SharingCreateForm(request.POST, organisation=organisation)
        form.is_valid()
        # Every refusal at once, from the service's own checks (a field that could not be read keeps its error).
        for error in services.sharing_create_refusals(actor=request.actor, **form.service_arguments()):
            pages.show_on_form(form, error)
        if form.is_valid():
            overlaps = _overlaps(organisation, request.POST)
            with pages.refusal(form) as refused:
                sharings = services.sharing_create(actor=request.actor, **form.service_arguments())
            if not refused:
                if overlaps:
                    messages.warning(
                        request,
                        _(
                            "Created. Note that some of these machines are also shared with others over the same "
                            "period (%(references)s)."
                        )
                        % {"references": ", ".join(sharing.reference or str(sharing.pk)[:8] for sharing in overlaps)},
                    )
                count = len(sharings)
                messages.success(
                    request,
                    ngettext("%(count)d sharing created.", "%(count)d sharings created.", count) % {"count": count},
                )
                if count == 1:
                    return redirect("sharing:detail", sharing_id=sharings[0].pk)
                return redirect("home")
        selected_ids = _selected_machine_ids(request.POST)
        overlaps = _overlaps(organisation, request.POST)
    else:
        form = SharingCreateForm(organisation=organisation)
        # ?machines=<id>: "Share this machine" on a machine's page opens the form with it ticked (only the
        # organisation's own machines can be: the picker reads them from machines_owned_by).
        selected_ids, overlaps = _selected_machine_ids(request.GET), []
    picker = MachinePickerForm(request.POST or None, organisation=organisation)
    picker_data = picker.cleaned_data if picker.is_bound and picker.is_valid() else {}
    selected, matching = _picker_machines(
        organisation,
        query=picker_data.get("machine_q", ""),
        workspace=picker_data.get("machine_workspace"),
        selected_ids=selected_ids,
    )
    context = {
        "nav": "share_centre",
        "form": form,
        "picker": picker,
        "selected_machines": selected,
        "matching_machines": matching,
        "selected_ids": {str(pk) for pk in selected_ids},
        "overlaps": overlaps,
        "error_summary": pages.error_summary(form, anchors=ERROR_ANCHORS) if form.is_bound else [],
        "has_machines": selected or matching or machines_owned_by(organisation).exists(),
    }
    return render(request, "sharing/sharing_form.html", context, status=400 if request.method == "POST" else 200)


@organisation_page(admin=True)
@require_GET
def sharing_create_machines(request):
    """The machine checkboxes of a new sharing, searched and filtered in place."""
    organisation = request.organisation
    picker = MachinePickerForm(request.GET, organisation=organisation)
    data = picker.cleaned_data if picker.is_valid() else {}
    selected_ids = _selected_machine_ids(request.GET)
    selected, matching = _picker_machines(
        organisation,
        query=data.get("machine_q", ""),
        workspace=data.get("machine_workspace"),
        selected_ids=selected_ids,
    )
    context = {
        "selected_machines": selected,
        "matching_machines": matching,
        "selected_ids": {str(machine.pk) for machine in selected},
        "has_machines": True,
    }
    return render(request, "sharing/sharing_form.html#machine_list", context)


def _overlapping_machine_count(overlaps, form_data) -> int:
    """How many of the machines ticked are in the overlapping sharings: the sentence the announcer reads."""
    chosen = set(_selected_machine_ids(form_data))
    return len({str(machine.pk) for sharing in overlaps for machine in sharing.machines.all()} & chosen)


@organisation_page(admin=True)
@require_GET
def sharing_create_overlaps(request):
    overlaps = _overlaps(request.organisation, request.GET)
    context = {"overlaps": overlaps, "overlapping_machines": _overlapping_machine_count(overlaps, request.GET)}
    return render(request, "sharing/sharing_form.html#overlaps", context)


@organisation_page(admin=True)
@require_GET
def contact_suggestions(request):
    """The recipient typeahead: the organisation's contacts matching what was typed."""
    # A NUL character can match nothing (PostgreSQL cannot even compare it): drop it rather than fail.
    query = request.GET.get("recipient_email", "").replace("\x00", "")
    contacts = contacts_search(organisation=request.organisation, query=query) if query.strip() else []
    return render(request, "sharing/sharing_form.html#suggestions", {"contacts": contacts, "query": query})


@organisation_page(admin=True)
@require_GET
def contact_pick(request, contact_id):
    """Fill the recipient fields from a contact picked in the typeahead."""
    contact = contact_get(organisation=request.organisation, contact_id=contact_id)
    form = SharingCreateForm(
        initial={
            "recipient_email": contact.email,
            "recipient_organisation_name": (
                contact.known_organisation.name if contact.known_organisation else contact.organisation_name
            ),
        },
        organisation=request.organisation,
    )
    return render(request, "sharing/sharing_form.html#recipient", {"form": form, "picked": contact})
