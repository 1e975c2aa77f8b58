"""A sharing's page: what is shared with whom and when, its history for the owner, and the owner's admin actions
(edit in place, stop, delete) through the view kit."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.portal import organisation_page
from audit.timeline import audit_timeline
from fleet.data_packs import DataPack
from hiboo_connect import pages

from .. import lifecycle, selectors, services
from ..audit import AuditAction
from ..forms import (
    PROPERTY_FIELDS,
    ExtensionDeclineForm,
    ExtensionRequestForm,
    SharingEditForm,
    sharing_locks,
)
from ..models import ExtensionStatus


def _timeline(organisation, sharing):
    # The creation lists every initial value; the summary above already shows them.
    events = selectors.sharing_audit_events(organisation=organisation, sharing=sharing)
    return audit_timeline(events, organisation=organisation, without_changes=[AuditAction.CREATED])


def _sharing_context(request, sharing, **extra):
    organisation = request.organisation
    now = timezone.now()
    is_owner = sharing.owner_id == organisation.pk
    can_manage = is_owner and request.user.is_organisation_admin
    status = sharing.status_at(now)
    deletion_refusal = lifecycle.deletion_refusal(status=status, start_at=sharing.start_at, now=now)
    properties = sharing.properties or {}
    known = [(label, properties[key]) for _field, key, label in PROPERTY_FIELDS if properties.get(key)]
    known_keys = {key for _field, key, _label in PROPERTY_FIELDS}
    others = [(key, value) for key, value in properties.items() if key not in known_keys]
    machines = list(sharing.machines.order_by("make", "model", "serial_number"))
    if not is_owner:
        # The beneficiary sees the machines under the names it gave them.
        names = dict(
            selectors.received_machines_of(organisation).filter(machine__in=machines).values_list("machine_id", "name")
        )
        for machine in machines:
            machine.received_name = names.get(machine.pk, "")
    context = {
        "nav": "share_centre",
        "sharing": sharing,
        "status": status,
        "status_label": lifecycle.SharingStatus(status).label,
        "is_owner": is_owner,
        "can_manage": can_manage,
        "can_stop": lifecycle.can_stop(status),
        "started": sharing.start_at <= now,
        "deletion_refusal": deletion_refusal,
        "properties": known + others,
        "machines": machines,
        "timeline": _timeline(organisation, sharing) if is_owner else [],
        "locks": sharing_locks(sharing, now),
        "data_pack_labels": _data_pack_labels(sharing.data_packs),
        **_extension_context(request, sharing, is_owner=is_owner, can_manage=can_manage, status=status),
    }
    context.update(extra)
    return context


def _extension_context(request, sharing, *, is_owner: bool, can_manage: bool, status: str) -> dict:
    """The requests for a later end, on both sides' page: the beneficiary may ask while the sharing has an end and is
    open (a pending request is shown instead of the form), the owner's admins answer the pending one."""
    extensions = selectors.extension_requests_of_sharing(sharing)
    pending = next((extension for extension in extensions if extension.status == ExtensionStatus.PENDING), None)
    can_ask = not is_owner and sharing.end_at is not None and lifecycle.can_stop(status) and pending is None
    return {
        "extensions": extensions,
        "pending_extension": pending,
        "extension_form": ExtensionRequestForm() if can_ask else None,
        "decline_form": ExtensionDeclineForm() if can_manage and pending is not None else None,
    }


def _data_pack_labels(codes):
    labels = dict(DataPack.choices)
    return [labels.get(code, code) for code in codes]


def _render_sharing(request, sharing, status=200, **extra):
    context = _sharing_context(request, sharing, **extra)
    return pages.render_page(request, "sharing/sharing_detail.html", context, fragment="#sharing", status=status)


def _owned_sharing_for_admin(request, sharing_id):
    """The sharing, for an admin of its owner: outsiders 404, the beneficiary and members 403."""
    sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing_id)
    if sharing.owner_id != request.organisation.pk or not request.user.is_organisation_admin:
        raise PermissionDenied
    return sharing


def _refused(request, sharing, error):
    """The sharing's page saying why the rules refused the action (409: the sharing's state forbids it)."""
    return _render_sharing(request, sharing, status=409, action_error=error.message)


@organisation_page
@require_GET
def sharing_detail(request, sharing_id):
    sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing_id)
    return _render_sharing(request, sharing)


@organisation_page
@require_http_methods(["GET", "POST"])
def sharing_edit(request, sharing_id):
    sharing = _owned_sharing_for_admin(request, sharing_id)
    now = timezone.now()
    if request.method == "POST":
        form = SharingEditForm(request.POST, sharing=sharing, now=now)
        if form.is_valid():
            changes = form.changes()
            with pages.refusal(form) as refused:
                if changes:
                    services.sharing_update(actor=request.actor, sharing=sharing, changes=changes)
            if not refused:
                messages.success(request, _("Sharing updated.") if changes else _("Nothing was changed."))
                if not pages.fragment_requested(request):
                    return redirect("sharing:detail", sharing_id=sharing.pk)
                sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing.pk)
                return _render_sharing(request, sharing)
        return _render_sharing(request, sharing, status=400, editing=True, form=form)
    form = SharingEditForm(sharing=sharing, now=now)
    return _render_sharing(request, sharing, editing=True, form=form)


@organisation_page
@require_http_methods(["GET", "POST"])
def sharing_stop(request, sharing_id):
    """GET asks for confirmation; POST stops."""
    sharing = _owned_sharing_for_admin(request, sharing_id)

    def stopped():
        stopped_sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing.pk)
        if stopped_sharing.stopped_at and stopped_sharing.stopped_at <= stopped_sharing.start_at:
            messages.success(request, _("Sharing stopped before it started: nothing was shared."))
        else:
            messages.success(request, _("Sharing stopped. The beneficiary keeps the history of the shared period."))
        if not pages.fragment_requested(request):
            return redirect("sharing:detail", sharing_id=sharing.pk)
        return _render_sharing(request, stopped_sharing)

    return pages.confirm_then_act(
        request,
        confirm=lambda: _render_sharing(request, sharing, confirm="stop"),
        act=lambda: services.sharing_stop(actor=request.actor, sharing=sharing),
        done=stopped,
        refused=lambda error: _refused(request, sharing, error),
    )


@organisation_page
@require_http_methods(["GET", "POST"])
def sharing_delete(request, sharing_id):
    """GET asks for confirmation (or says why deleting is not possible); POST deletes."""
    sharing = _owned_sharing_for_admin(request, sharing_id)

    def deleted():
        messages.success(request, _("Sharing deleted."))
        if pages.fragment_requested(request):
            return HttpResponseClientRedirect(reverse("home"))
        return redirect("home")

    return pages.confirm_then_act(
        request,
        confirm=lambda: _render_sharing(request, sharing, confirm="delete"),
        act=lambda: services.sharing_delete(actor=request.actor, sharing=sharing),
        done=deleted,
        refused=lambda error: _refused(request, sharing, error),
    )


# --- requests for a later end -----------------------------------------------------------------------------------------


@organisation_page
@require_POST
def sharing_extension_request(request, sharing_id):
    """A beneficiary user asks for a later end. Asking while a request is pending shows that one."""
    sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing_id)
    form = ExtensionRequestForm(request.POST)
    if form.is_valid():
        with pages.refusal(form) as refused:
            _extension, created = services.extension_request_create(
                actor=request.actor,
                sharing=sharing,
                end_at=form.cleaned_data["end_at"],
                message=form.cleaned_data["message"],
            )
        if not refused:
            messages.success(
                request,
                _("Your request is sent: the owner's admins are told, and you will be told their answer.")
                if created
                else _("A request of yours is already waiting for an answer: here it is."),
            )
            return redirect("sharing:detail", sharing_id=sharing.pk)
    return _render_sharing(request, sharing, status=400, extension_form=form)


def _extension_for_admin(request, extension_id):
    """The request, for an admin of the sharing's owner: outsiders 404, the beneficiary and members 403."""
    extension = selectors.extension_request_get(organisation=request.organisation, extension_id=extension_id)
    if extension.sharing.owner_id != request.organisation.pk or not request.user.is_organisation_admin:
        raise PermissionDenied
    return extension


def _answered(request, extension, refused, *, form=None):
    sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=extension.sharing_id)
    if refused:
        extra = {"decline_form": form} if form is not None else {}
        return _render_sharing(request, sharing, status=409, extension_error=refused.message, **extra)
    return redirect("sharing:detail", sharing_id=sharing.pk)


@organisation_page
@require_POST
def extension_approve(request, extension_id):
    """The owner's admin grants the end asked for, through the sharing's rules (a refusal says why)."""
    extension = _extension_for_admin(request, extension_id)
    with pages.refusal() as refused:
        extension = services.extension_request_approve(actor=request.actor, extension=extension)
    if not refused:
        messages.success(request, _("Approved: the sharing's end has moved, and the beneficiary is told."))
    return _answered(request, extension, refused)


@organisation_page
@require_POST
def extension_decline(request, extension_id):
    extension = _extension_for_admin(request, extension_id)
    form = ExtensionDeclineForm(request.POST)
    if not form.is_valid():
        sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=extension.sharing_id)
        return _render_sharing(request, sharing, status=400, decline_form=form)
    with pages.refusal(form) as refused:
        extension = services.extension_request_decline(
            actor=request.actor, extension=extension, message=form.cleaned_data["message"]
        )
    if not refused:
        messages.success(request, _("Declined: the beneficiary is told."))
    return _answered(request, extension, refused, form=form)
