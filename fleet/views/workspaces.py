"""The workspaces pages: the organisation's workspaces with their machine counts, created, renamed in place and
deleted after confirmation. Reads through selectors, writes through services."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.portal import organisation_page
from hiboo_connect import pages

from .. import services as fleet_services
from ..forms import WorkspaceForm
from ..selectors import workspace_get, workspaces_of


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
        with pages.refusal(form) as refused:
            workspace = fleet_services.workspace_create(actor=request.actor, name=form.cleaned_data["name"])
        if not refused:
            messages.success(request, _("Workspace “%(name)s” created.") % {"name": workspace.name})
            return redirect("fleet:workspaces")
    return render(request, "fleet/workspaces.html", _workspaces_context(request, create_form=form), status=400)


WORKSPACE_ROW = "fleet/workspaces.html#workspace_row"
WORKSPACE_FORM = "fleet/workspace_form.html"


def _workspace_row(request, workspace_id):
    return _workspaces_with_counts(request.organisation).get(pk=workspace_id)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def workspace_rename(request, workspace_id):
    workspace = workspace_get(organisation=request.organisation, workspace_id=workspace_id)
    if request.method == "POST":
        form = WorkspaceForm(request.POST)
        if form.is_valid():
            with pages.refusal(form) as refused:
                fleet_services.workspace_rename(
                    actor=request.actor, workspace=workspace, name=form.cleaned_data["name"]
                )
            if not refused:
                if not pages.fragment_requested(request):
                    messages.success(request, _("Workspace renamed."))
                    return redirect("fleet:workspaces")
                context = {"workspace": _workspace_row(request, workspace.pk), "can_manage": True}
                return pages.render_page(request, WORKSPACE_FORM, context, fragment=WORKSPACE_ROW)
        status = 400
    else:
        form, status = WorkspaceForm(initial={"name": workspace.name}), 200
    context = {
        "workspace": _workspace_row(request, workspace.pk),
        "form": form,
        "can_manage": True,
        "nav": "workspaces",
    }
    return pages.render_page(request, WORKSPACE_FORM, context, fragment=WORKSPACE_ROW, status=status)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def workspace_delete(request, workspace_id):
    """GET asks for confirmation; POST deletes (the machines stay in the fleet)."""
    workspace = workspace_get(organisation=request.organisation, workspace_id=workspace_id)

    def confirm():
        context = {"workspace": _workspace_row(request, workspace.pk), "confirm": True, "can_manage": True}
        return pages.render_page(request, WORKSPACE_FORM, {**context, "nav": "workspaces"}, fragment=WORKSPACE_ROW)

    def deleted():
        messages.success(request, _("Workspace “%(name)s” deleted.") % {"name": workspace.name})
        return redirect("fleet:workspaces")

    return pages.confirm_then_act(
        request,
        confirm=confirm,
        act=lambda: fleet_services.workspace_delete(actor=request.actor, workspace=workspace),
        done=deleted,
    )
