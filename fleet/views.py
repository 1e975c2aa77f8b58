"""The fleet pages: the organisation's own machines, the machines shared with it (renamed and placed in workspaces
in place with htmx), and the workspaces that group them. Reads through selectors, writes through services."""

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.models import Workspace
from accounts.selectors import workspace_get, workspaces_of
from hiboo_connect.errors import DomainError, NotAllowed
from hiboo_connect.portal import organisation_page
from sharing import selectors as sharing_selectors
from sharing import services as sharing_services

from .forms import ReceivedMachineForm, WorkspaceForm
from .selectors import machines_owned_by


def _received_machines(organisation):
    return (
        sharing_selectors.received_machines_of(organisation)
        .select_related("machine__organisation")
        .prefetch_related(Prefetch("workspaces", queryset=Workspace.objects.order_by("name")))
        .order_by("name")
    )


@organisation_page
@require_GET
def machines(request):
    organisation = request.organisation
    context = {
        "nav": "fleet",
        "received_machines": _received_machines(organisation),
        "own_machines": machines_owned_by(organisation)
        .prefetch_related(Prefetch("workspaces", queryset=Workspace.objects.order_by("name")))
        .order_by("make", "model", "serial_number"),
        "workspaces": list(workspaces_of(organisation)),
    }
    return render(request, "fleet/machines.html", context)


@organisation_page
@require_http_methods(["GET", "POST"])
def received_machine_edit(request, received_machine_id):
    """Rename a received machine and choose its workspaces, in place: GET gives the row's form, POST saves."""
    organisation = request.organisation
    received = sharing_selectors.received_machine_get(
        organisation=organisation, received_machine_id=received_machine_id
    )
    if request.method == "POST":
        form = ReceivedMachineForm(request.POST, organisation=organisation, auto_id=f"received-{received.pk}-%s")
        if form.is_valid():
            try:
                sharing_services.received_machine_update(
                    actor=request.actor,
                    received_machine=received,
                    name=form.cleaned_data["name"],
                    workspaces=form.cleaned_data["workspaces"],
                )
            except NotAllowed:
                raise
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                if not request.htmx:
                    messages.success(request, _("Machine updated."))
                    return redirect("fleet:machines")
                received = _received_machines(organisation).get(pk=received.pk)
                return render(request, "fleet/machines.html#received_row", {"received": received, "saved": True})
        status = 400
    else:
        form = ReceivedMachineForm(
            organisation=organisation,
            auto_id=f"received-{received.pk}-%s",
            initial={"name": received.name, "workspaces": list(received.workspaces.all())},
        )
        status = 200
    context = {"received": received, "form": form, "nav": "fleet"}
    template = "fleet/machines.html#received_row" if request.htmx else "fleet/received_machine_form.html"
    return render(request, template, context, status=status)


@organisation_page
@require_GET
def received_machine_row(request, received_machine_id):
    """The row as it reads (the Cancel of the in-place form)."""
    received = sharing_selectors.received_machine_get(
        organisation=request.organisation, received_machine_id=received_machine_id
    )
    received = _received_machines(request.organisation).get(pk=received.pk)
    return render(request, "fleet/machines.html#received_row", {"received": received})


# --- workspaces ------------------------------------------------------------------------------------------------------


def _workspaces_with_counts(organisation):
    return workspaces_of(organisation).annotate(
        machine_count=Count("machines", distinct=True), received_count=Count("received_machines", distinct=True)
    )


def _workspaces_context(request, **extra):
    organisation = request.organisation
    context = {
        "nav": "workspaces",
        "workspaces": _workspaces_with_counts(organisation).order_by("name"),
        "can_manage": request.user.is_organisation_admin,
        "create_form": WorkspaceForm(),
    }
    context.update(extra)
    return context


@organisation_page
@require_GET
def workspaces(request):
    return render(request, "fleet/workspaces.html", _workspaces_context(request))


@organisation_page(admin=True)
@require_POST
def workspace_create(request):
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        try:
            workspace = account_services.workspace_create(actor=request.actor, name=form.cleaned_data["name"])
        except NotAllowed:
            raise
        except DomainError as error:
            form.add_error("name", error.message)
        else:
            messages.success(request, _("Workspace “%(name)s” created.") % {"name": workspace.name})
            return redirect("fleet:workspaces")
    return render(request, "fleet/workspaces.html", _workspaces_context(request, create_form=form), status=400)


def _workspace_row(request, workspace_id):
    return _workspaces_with_counts(request.organisation).get(pk=workspace_id)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def workspace_rename(request, workspace_id):
    workspace = workspace_get(organisation=request.organisation, workspace_id=workspace_id)
    if request.method == "POST":
        form = WorkspaceForm(request.POST)
        if form.is_valid():
            try:
                account_services.workspace_rename(
                    actor=request.actor, workspace=workspace, name=form.cleaned_data["name"]
                )
            except NotAllowed:
                raise
            except DomainError as error:
                form.add_error("name", error.message)
            else:
                if not request.htmx:
                    messages.success(request, _("Workspace renamed."))
                    return redirect("fleet:workspaces")
                return render(
                    request,
                    "fleet/workspaces.html#workspace_row",
                    {"workspace": _workspace_row(request, workspace.pk), "can_manage": True},
                )
        status = 400
    else:
        form, status = WorkspaceForm(initial={"name": workspace.name}), 200
    context = {
        "workspace": _workspace_row(request, workspace.pk),
        "form": form,
        "can_manage": True,
        "nav": "workspaces",
    }
    template = "fleet/workspaces.html#workspace_row" if request.htmx else "fleet/workspace_form.html"
    return render(request, template, context, status=status)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def workspace_delete(request, workspace_id):
    """GET asks for confirmation; POST deletes (the machines stay in the fleet)."""
    workspace = workspace_get(organisation=request.organisation, workspace_id=workspace_id)
    if request.method == "GET":
        context = {"workspace": _workspace_row(request, workspace.pk), "confirm": True, "can_manage": True}
        template = "fleet/workspaces.html#workspace_row" if request.htmx else "fleet/workspace_form.html"
        return render(request, template, {**context, "nav": "workspaces"})
    account_services.workspace_delete(actor=request.actor, workspace=workspace)
    messages.success(request, _("Workspace “%(name)s” deleted.") % {"name": workspace.name})
    return redirect("fleet:workspaces")
