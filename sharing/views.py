"""The share centre's pages: the list of sharings (both directions), creating a sharing, a sharing's page and its
admin actions. Views are thin: reads go through selectors and the FilterSet, writes through sharing.services, and
htmx requests get the fragment of the same template (`template.html#partial`)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, TextChoices
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from accounts.portal import organisation_page
from accounts.selectors import contact_get, contacts_search
from audit.timeline import audit_timeline
from fleet.data_packs import DataPack
from fleet.models import Machine
from fleet.selectors import machines_owned_by, workspaces_of
from hiboo_connect import pages
from hiboo_connect.errors import DomainError, NotAllowed

from . import exports, lifecycle, selectors, services
from .audit import AuditAction
from .filters import Direction, SharingFilterSet
from .forms import (
    PROPERTY_FIELDS,
    MachinePickerForm,
    SharingCreateForm,
    SharingEditForm,
    sharing_locks,
)
from .lifecycle import SharingStatus
from .timeline import share_centre_timeline

PER_PAGE = 25
MACHINES_SHOWN_IN_LIST = 2
MACHINE_PICKER_LIMIT = 100
SORTABLE_COLUMNS = ("status", "reference", "start", "end")


def _machines_prefetch():
    return Prefetch("machines", queryset=Machine.objects.order_by("make", "model", "serial_number"))


def home(request):
    """The share centre for a logged-in user; the landing page for visitors."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return share_centre(request)


def _list_data(request):
    data = request.GET.copy()
    if data.get("direction") not in Direction.values:
        data["direction"] = Direction.OUTGOING
    return data


def _sort_headers(filterset) -> dict:
    """For each sortable column: the `ordering` value its header link sets, and how the list is sorted now."""
    current = (filterset.form.cleaned_data.get("ordering") or [None])[0] if filterset.form.is_valid() else None
    headers = {}
    for column in SORTABLE_COLUMNS:
        if current == column:
            headers[column] = {"next": f"-{column}", "sort": "ascending"}
        elif current == f"-{column}":
            headers[column] = {"next": column, "sort": "descending"}
        else:
            headers[column] = {"next": column, "sort": ""}
    return headers


class View(TextChoices):
    """How the share centre shows the filtered sharings (the `view` query parameter)."""

    LIST = "list", gettext_lazy("List")
    TIMELINE = "timeline", gettext_lazy("Timeline")


@organisation_page
@require_GET
def share_centre(request):
    organisation = request.organisation
    data = _list_data(request)
    direction = data["direction"]
    filterset = SharingFilterSet(data, organisation=organisation)

    # Counts for the chips: every status under the other filters (one aggregate query), and per direction.
    without_status = data.copy()
    without_status.pop("status", None)
    status_counts = SharingFilterSet(without_status, organisation=organisation).qs.aggregate(
        all=Count("pk"), **{status: Count("pk", filter=Q(status=status)) for status in SharingStatus.values}
    )
    direction_counts = selectors.sharings_visible_to(organisation).aggregate(
        outgoing=Count("pk", filter=Q(owner=organisation)), incoming=Count("pk", filter=Q(beneficiary=organisation))
    )
    selected_statuses = data.getlist("status")
    chips = [{"value": None, "label": _("All"), "count": status_counts["all"], "current": not selected_statuses}]
    chips += [
        {
            "value": status,
            "label": label,
            "count": status_counts[status],
            "current": selected_statuses == [status],
        }
        for status, label in SharingStatus.choices
    ]

    view = View.TIMELINE if data.get("view") == View.TIMELINE else View.LIST
    page = timeline = None
    if view == View.TIMELINE:
        timeline = share_centre_timeline(
            organisation=organisation,
            sharings=filterset.qs,
            incoming=direction == Direction.INCOMING,
            now=timezone.now(),
            tz=timezone.get_current_timezone(),
        )
    else:
        page = Paginator(
            filterset.qs.select_related("owner", "beneficiary").prefetch_related(_machines_prefetch()), PER_PAGE
        ).get_page(request.GET.get("page"))
    filtered = any(
        value for key, value in request.GET.items() if key not in ("direction", "page", "ordering", "view") and value
    )
    context = {
        "view": view,
        "timeline": timeline,
        "nav": "share_centre",
        "list_url": reverse("home"),
        "filterset": filterset,
        "workspaces": workspaces_of(organisation),
        "direction": direction,
        "direction_counts": direction_counts,
        "chips": chips,
        "selected_statuses": selected_statuses,
        "page_obj": page,
        "sharings": page.object_list if page else None,
        "sort_headers": _sort_headers(filterset),
        "filtered": filtered,
        "machines_shown": MACHINES_SHOWN_IN_LIST,
        "can_share": request.user.is_organisation_admin,
    }
    fragment = pages.fragment_requested(request)
    if request.user.is_organisation_admin and not fragment:
        # One count, for the discreet link to the failed notifications (the list fragment never shows it).
        context["failed_notifications"] = selectors.notifications_failed(organisation).count()
    response = pages.render_page(request, "sharing/share_centre.html", context, fragment="#results")
    if fragment:
        # The address bar keeps only the filters in use, so links to a list stay short and readable.
        used = QueryDict(mutable=True)
        for key, values in request.GET.lists():
            if any(values):
                used.setlist(key, [value for value in values if value])
        push_url(response, f"{request.path}?{used.urlencode()}" if used else request.path)
    return response


@organisation_page
@require_GET
def share_centre_export(request):
    """The filtered list as CSV (sharing.exports lays it out), with the same FilterSet; dates in the organisation's
    time zone."""
    organisation = request.organisation
    filterset = SharingFilterSet(_list_data(request), organisation=organisation)
    sharings = filterset.qs.select_related("owner", "beneficiary").prefetch_related(_machines_prefetch())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.sharings_filename()}"'
    exports.write_sharings(response, sharings)
    return response


# --- creating a sharing ----------------------------------------------------------------------------------------------


def _picker_machines(organisation, *, query: str = "", workspace=None, selected_ids=()):
    """The organisation's own machines for the picker: the ones already ticked first (so a search never drops
    them), then those matching the search and workspace. Received machines are never offered."""
    owned = machines_owned_by(organisation)
    selected = list(owned.filter(pk__in=list(selected_ids))) if selected_ids else []
    matching = owned.exclude(pk__in=[machine.pk for machine in selected])
    if query:
        matching = matching.filter(
            Q(make__icontains=query) | Q(model__icontains=query) | Q(serial_number__icontains=query)
        )
    if workspace is not None:
        matching = matching.filter(workspaces=workspace)
    matching = list(matching.order_by("make", "model", "serial_number")[:MACHINE_PICKER_LIMIT])
    return selected, matching


def _selected_machine_ids(data) -> list[str]:
    return [value for value in data.getlist("machines") if value]


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
        .prefetch_related(_machines_prefetch())
        .order_by("start_at")[:20]
    )


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def sharing_create(request):
    organisation = request.organisation
    if request.method == "POST":
        form = SharingCreateForm(request.POST, organisation=organisation)
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
        selected_ids, overlaps = [], []
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


@organisation_page(admin=True)
@require_GET
def sharing_create_overlaps(request):
    return render(
        request, "sharing/sharing_form.html#overlaps", {"overlaps": _overlaps(request.organisation, request.GET)}
    )


@organisation_page(admin=True)
@require_GET
def contact_suggestions(request):
    """The recipient typeahead: the organisation's contacts matching what was typed."""
    query = request.GET.get("recipient_email", "")
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


# --- one sharing -----------------------------------------------------------------------------------------------------


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
        "is_owner": is_owner,
        "can_manage": can_manage,
        "can_stop": lifecycle.can_stop(status),
        "deletion_refusal": deletion_refusal,
        "properties": known + others,
        "machines": machines,
        "timeline": _timeline(organisation, sharing) if is_owner else [],
        "locks": sharing_locks(sharing, now),
        "data_pack_labels": _data_pack_labels(sharing.data_packs),
    }
    context.update(extra)
    return context


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
        messages.success(request, _("Sharing stopped. The beneficiary keeps the history of the shared period."))
        stopped_sharing = selectors.sharing_get(organisation=request.organisation, sharing_id=sharing.pk)
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


# --- failed notifications --------------------------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 50


@organisation_page(admin=True)
@require_GET
def notifications_failed(request):
    """The organisation's e-mails that could not be sent, for its admins to send again."""
    page = Paginator(selectors.notifications_failed(request.organisation), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "share_centre", "page_obj": page, "notifications": page.object_list}
    return render(request, "sharing/notifications_failed.html", context)


@organisation_page(admin=True)
@require_POST
def notification_retry(request, notification_id):
    """Send a failed notification again; htmx swaps its row for one saying it is queued."""
    notification = selectors.notification_get(organisation=request.organisation, notification_id=notification_id)
    try:
        notification = services.notification_retry(actor=request.actor, notification=notification)
    except NotAllowed:
        raise
    except DomainError as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect("sharing:notifications_failed")
        context = {"notification": notification, "retry_error": error.message}
        return render(request, "sharing/notifications_failed.html#notification_row", context, status=409)
    if not request.htmx:
        messages.success(request, _("The e-mail to %(email)s will be sent again.") % {"email": notification.recipient})
        return redirect("sharing:notifications_failed")
    return render(request, "sharing/notifications_failed.html#notification_row", {"notification": notification})
