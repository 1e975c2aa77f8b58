"""The beneficiary's own handling of the machines it receives, in place in the fleet list: rename one and choose the
workspaces it sits in. The owner never sees either."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.portal import organisation_page
from fleet.glance import attach as attach_glance
from fleet.models import Workspace
from hiboo_connect import pages

from . import selectors, services
from .forms import ReceivedMachineForm

#: The row of the fleet list that shows a received machine (the list itself is fleet's page).
RECEIVED_ROW = "fleet/machines.html#received_row"
RECEIVED_MACHINE_FORM = "fleet/received_machine_form.html"


def _received_machine(organisation, received_machine_id):
    """One of the organisation's received machines, with its owner, its workspaces and its fleet facts (as
    `received.machine.facts`, `.glance` and `.naming`); anything else is a 404."""
    received = selectors.received_machine_get(organisation=organisation, received_machine_id=received_machine_id)
    received = (
        selectors.received_machines_of(organisation)
        .select_related("machine__organisation")
        .prefetch_related(Prefetch("workspaces", queryset=Workspace.objects.order_by("name")))
        .get(pk=received.pk)
    )
    received.machine.received_name = received.name
    attach_glance(organisation, [received.machine])
    return received


@organisation_page
@require_http_methods(["GET", "POST"])
def received_machine_edit(request, received_machine_id):
    """Rename a received machine and choose its workspaces, in place: GET gives the row's form, POST saves."""
    organisation = request.organisation
    received = selectors.received_machine_get(organisation=organisation, received_machine_id=received_machine_id)
    if request.method == "POST":
        form = ReceivedMachineForm(request.POST, organisation=organisation, auto_id=f"received-{received.pk}-%s")
        if form.is_valid():
            with pages.refusal(form) as refused:
                services.received_machine_update(
                    actor=request.actor,
                    received_machine=received,
                    name=form.cleaned_data["name"],
                    workspaces=form.cleaned_data["workspaces"],
                )
            if not refused:
                if not pages.fragment_requested(request):
                    messages.success(request, _("Machine updated."))
                    return redirect("fleet:machines")
                context = {"received": _received_machine(organisation, received.pk), "saved": True}
                return pages.render_page(request, RECEIVED_MACHINE_FORM, context, fragment=RECEIVED_ROW)
        status = 400
    else:
        form = ReceivedMachineForm(
            organisation=organisation,
            auto_id=f"received-{received.pk}-%s",
            initial={"name": received.name, "workspaces": list(received.workspaces.all())},
        )
        status = 200
    context = {"received": received, "form": form, "nav": "fleet"}
    return pages.render_page(request, RECEIVED_MACHINE_FORM, context, fragment=RECEIVED_ROW, status=status)


@organisation_page
@require_GET
def received_machine_row(request, received_machine_id):
    """The row as it reads (the Cancel of the in-place form)."""
    return render(request, RECEIVED_ROW, {"received": _received_machine(request.organisation, received_machine_id)})
