"""The telematics sources pages of the portal, for admins: the sources with their last run and its problems, a form
to register or change one (the secret write-only), delete after confirmation, and "Poll now". Thin: selectors read,
services write, refusals land next to their fields."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.portal import organisation_page
from hiboo_connect import pages

from . import selectors, services
from .forms import TelematicsSourceForm


@organisation_page(admin=True)
@require_GET
def sources(request):
    listed = selectors.with_last_run(selectors.sources_of(request.organisation)).order_by("name", "pk")
    return render(
        request,
        "telematics/sources.html",
        {"nav": "telematics", "organisation": request.organisation, "sources": selectors.attach_last_runs(listed)},
    )


def _form_page(request, form, source=None, status=200):
    runs = selectors.runs_of(source) if source is not None else []
    context = {"nav": "telematics", "form": form, "source": source, "runs": runs}
    return render(request, "telematics/source_form.html", context, status=status)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def source_create(request):
    if request.method != "POST":
        return _form_page(request, TelematicsSourceForm(initial={"auth_type": "basic", "poll_minutes": 60}))
    form = TelematicsSourceForm(request.POST)
    if form.is_valid():
        with pages.refusal(form) as refused:
            source = services.telematics_source_create(actor=request.actor, **form.service_values())
        if not refused:
            messages.success(
                request, _("Source “%(name)s” registered: its first poll is due now.") % {"name": source.name}
            )
            return redirect("telematics:sources")
    return _form_page(request, form, status=400)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def source_edit(request, source_id):
    source = selectors.source_get(organisation=request.organisation, source_id=source_id)
    if request.method != "POST":
        return _form_page(
            request, TelematicsSourceForm(initial=TelematicsSourceForm.initial_of(source), source=source), source
        )
    form = TelematicsSourceForm(request.POST, source=source)
    if form.is_valid():
        with pages.refusal(form) as refused:
            services.telematics_source_update(actor=request.actor, source=source, changes=form.service_values())
        if not refused:
            messages.success(request, _("Source “%(name)s” saved.") % {"name": source.name})
            return redirect("telematics:sources")
    return _form_page(request, form, source, status=400)


@organisation_page(admin=True)
def source_delete(request, source_id):
    source = selectors.source_get(organisation=request.organisation, source_id=source_id)

    def done():
        messages.success(request, _("Source “%(name)s” deleted.") % {"name": source.name})
        return redirect("telematics:sources")

    return pages.confirm_then_act(
        request,
        confirm=lambda: render(request, "telematics/source_delete.html", {"nav": "telematics", "source": source}),
        act=lambda: services.telematics_source_delete(actor=request.actor, source=source),
        done=done,
    )


@require_POST
@organisation_page(admin=True)
def source_poll(request, source_id):
    source = selectors.source_get(organisation=request.organisation, source_id=source_id)
    run = services.telematics_poll_request(actor=request.actor, source=source)
    if run.started_at is None:
        messages.success(request, _("A poll of “%(name)s” is queued.") % {"name": source.name})
    else:
        messages.info(request, _("A poll of “%(name)s” is already under way.") % {"name": source.name})
    return redirect("telematics:sources")
