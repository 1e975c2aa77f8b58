"""The fleet list: the organisation's own machines and the machines shared with it in one filtered list, with the
rows edited in place with htmx (a received machine renamed and placed in workspaces, an own machine placed in
workspaces). Reads through selectors, writes through services."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from accounts.portal import organisation_page
from hiboo_connect import pages

from .. import glance
from .. import services as fleet_services
from ..filters import MachineFilterSet
from ..forms import MachineWorkspacesForm
from ..models import Workspace
from ..selectors import machines_owned_by, received_machines_of

FLEET_PER_PAGE = 25


def _workspaces_prefetch(organisation, to_attr=None):
    # Only the viewer's workspaces: a received machine also sits in its owner's, which the beneficiary never sees.
    return Prefetch(
        "workspaces", queryset=Workspace.objects.filter(organisation=organisation).order_by("name"), to_attr=to_attr
    )


def _attach_facts(organisation, machines):
    return glance.attach(organisation, machines)


def _fleet_rows(organisation, machines):
    """One row per machine, in the list's order: ("own", machine) or ("received", received machine)."""
    rows = []
    for machine in _attach_facts(organisation, list(machines)):
        if machine.organisation_id == organisation.pk:
            rows.append(("own", machine))
        else:
            received = machine.received_here[0]
            received.machine = machine  # the machine carries the facts and its owner
            rows.append(("received", received))
    return rows


def _query_in_use(request) -> str:
    """The address of the list with only the filters in use, so links to a list stay short and readable."""
    used = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if any(values):
            used.setlist(key, [value for value in values if value])
    return f"{request.path}?{used.urlencode()}" if used else request.path


@organisation_page
@require_GET
def machines(request):
    """Own and received machines in one list, filtered by origin, workspace and a search; htmx gets the results
    fragment of the same template and the address bar follows the filters."""
    organisation = request.organisation
    filterset = MachineFilterSet(request.GET, organisation=organisation)
    machines = filterset.qs.select_related("organisation").prefetch_related(
        _workspaces_prefetch(organisation),
        Prefetch(
            "received_as",
            queryset=received_machines_of(organisation).prefetch_related(_workspaces_prefetch(organisation)),
            to_attr="received_here",
        ),
    )
    page = Paginator(machines, FLEET_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "fleet",
        "filterset": filterset,
        "workspaces": filterset.filters["workspace"].queryset,
        "page_obj": page,
        "rows": _fleet_rows(organisation, page.object_list),
        "filtered": any(value for key, value in request.GET.items() if key != "page" and value),
    }
    response = pages.render_page(request, "fleet/machines.html", context, fragment="#results")
    if pages.fragment_requested(request):
        push_url(response, _query_in_use(request))
    return response


# --- own machines: placing them in workspaces -------------------------------------------------------------------------

OWN_MACHINE_ROW = "fleet/own_machine_row.html"
OWN_MACHINE_FORM = "fleet/own_machine_workspaces_form.html"


def _own_machine(request, machine_id):
    """One of the organisation's own machines, with its workspaces and its fleet facts; a received or unknown machine
    is a 404."""
    machine = get_object_or_404(
        machines_owned_by(request.organisation).prefetch_related(
            Prefetch("workspaces", queryset=Workspace.objects.order_by("name"))
        ),
        pk=machine_id,
    )
    return _attach_facts(request.organisation, [machine])[0]


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def own_machine_workspaces(request, machine_id):
    """Place one of our machines in our workspaces, in place: GET gives the row's form, POST saves."""
    machine = _own_machine(request, machine_id)
    form_options = {"organisation": request.organisation, "auto_id": f"machine-{machine.pk}-%s"}
    if request.method == "POST":
        form = MachineWorkspacesForm(request.POST, **form_options)
        if form.is_valid():
            with pages.refusal(form) as refused:
                fleet_services.machine_set_workspaces(
                    actor=request.actor, machine=machine, workspaces=form.cleaned_data["workspaces"]
                )
            if not refused:
                if not pages.fragment_requested(request):
                    messages.success(request, _("Machine placed in its workspaces."))
                    return redirect("fleet:machines")
                context = {"machine": _own_machine(request, machine.pk), "saved": True}
                return pages.render_page(request, OWN_MACHINE_FORM, context, fragment=OWN_MACHINE_ROW)
        status = 400
    else:
        form = MachineWorkspacesForm(initial={"workspaces": list(machine.workspaces.all())}, **form_options)
        status = 200
    context = {"machine": machine, "form": form, "nav": "fleet"}
    return pages.render_page(request, OWN_MACHINE_FORM, context, fragment=OWN_MACHINE_ROW, status=status)


@organisation_page
@require_GET
def own_machine_row(request, machine_id):
    """The row as it reads (the Cancel of the in-place form)."""
    return render(request, OWN_MACHINE_ROW, {"machine": _own_machine(request, machine_id)})
