"""The share centre's contracts (DESIGN §7) in the portal: the list (filters, search, sort; htmx swaps the results and
the address bar follows), a contract's page (its sharings, their timeline, drift, the history of its applies), the
contract-wide actions and the CSV import. Every write is services.contract_apply, a dry run first whose plan the admin
reads before applying it: the portal has no path of its own to the sharings. Contracts are addressed by id, so any
reference works ("import" included)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from accounts.portal import organisation_page
from fleet.data_packs import DataPack
from fleet.selectors import machines_owned_by
from hiboo_connect import pages
from hiboo_connect.api.fields import parse_instant
from hiboo_connect.errors import DomainError, PreconditionFailed
from sharing.forms import PROPERTY_FIELDS
from sharing.lifecycle import SharingStatus
from sharing.timeline import sharings_timeline

from . import imports, selectors, services
from .filters import ContractFilterSet
from .forms import ACTIONS, ImportForm, SwapMachineForm
from .models import Contract, ContractStatus
from .plan import Action

PER_PAGE = 25
#: The largest file the portal takes, as the API.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
#: A contract's status drawn with the colours of the sharing statuses it leads to.
STATUS_BADGES: dict[str, str] = {
    ContractStatus.ACTIVE: SharingStatus.IN_PROGRESS,
    ContractStatus.COMPLETED: SharingStatus.TERMINATED,
    ContractStatus.CANCELLED: SharingStatus.STOPPED,
}
ACTION_LABELS = {
    Action.CREATE: gettext_lazy("New sharing"),
    Action.UPDATE: gettext_lazy("Change"),
    Action.STOP: gettext_lazy("Stop"),
    Action.DELETE: gettext_lazy("Delete"),
    Action.NOOP: gettext_lazy("No change"),
    Action.CONFLICT: gettext_lazy("Refused by the rules"),
}
SUMMARY_LABELS = {
    Action.CREATE: ngettext_lazy("%(count)d new sharing", "%(count)d new sharings", "count"),
    Action.UPDATE: ngettext_lazy("%(count)d change", "%(count)d changes", "count"),
    Action.STOP: ngettext_lazy("%(count)d stop", "%(count)d stops", "count"),
    Action.DELETE: ngettext_lazy("%(count)d deletion", "%(count)d deletions", "count"),
    Action.NOOP: ngettext_lazy("%(count)d unchanged", "%(count)d unchanged", "count"),
    Action.CONFLICT: ngettext_lazy("%(count)d refused", "%(count)d refused", "count"),
}
FIELD_LABELS = {
    "startDate": gettext_lazy("Start"),
    "endDate": gettext_lazy("End"),
    "stoppedAt": gettext_lazy("Stopped"),
    "recipient": gettext_lazy("Recipient"),
    "dataPacksCodes": gettext_lazy("Data packs"),
    "properties": gettext_lazy("Properties"),
    "notificationEnabled": gettext_lazy("Notifications"),
    "reference": gettext_lazy("Reference"),
    "status": gettext_lazy("Status"),
}
DATE_FIELDS = ("startDate", "endDate", "stoppedAt")
#: Each step's badge, in the colours of the sharing statuses: new (green), changed (blue), ended (grey), refused (red).
PLAN_BADGES = {
    Action.CREATE: SharingStatus.IN_PROGRESS,
    Action.UPDATE: SharingStatus.SCHEDULED,
    Action.STOP: SharingStatus.TERMINATED,
    Action.DELETE: SharingStatus.TERMINATED,
    Action.NOOP: "plain",
    Action.CONFLICT: SharingStatus.STOPPED,
}
PROPERTY_LABELS = {key: label for _field, key, label in PROPERTY_FIELDS}


# --- how a plan reads ------------------------------------------------------------------------------------------------


def _instant(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return parse_instant(value) if value else None
    except ValueError:
        return None


def _moment(value) -> str:
    moment = _instant(value)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def _value(field: str, value) -> str:
    if value is None or value == "":
        return _("open-ended") if field == "endDate" else "—"
    if field in DATE_FIELDS:
        return _moment(value) or str(value)
    if field == "dataPacksCodes":
        labels = dict(DataPack.choices)
        return ", ".join(str(labels.get(code, code)) for code in value)
    if field == "properties":
        return ", ".join(f"{PROPERTY_LABELS.get(key, key)}: {text}" for key, text in value.items()) or "—"
    if field == "notificationEnabled":
        return _("on") if value else _("off")
    if field == "status":
        return str(SharingStatus(value).label) if value in SharingStatus.values else str(value)
    return str(value)


def _machine_labels(organisation, asset_ids) -> dict:
    """The organisation's machines among `asset_ids`, as the pages name them: one query."""
    machines = machines_owned_by(organisation).filter(pk__in={str(asset_id) for asset_id in asset_ids})
    return {
        str(m.pk): f"{m.make} {m.model} · {m.serial_number}" for m in machines.only("make", "model", "serial_number")
    }


def plan_rows(steps: list[dict], machines: dict, *, sharing_ids: set) -> list[dict]:
    """The steps of a plan (as the API answers them) in words: what happens to which machine, and for a refusal
    which rule and why. `sharing_ids`: the sharings that still exist, linked to."""
    rows = []
    for step in steps:
        action, changes = step["action"], step.get("changes") or []
        # A refused creation lists every field from nothing: its period says enough.
        creation = action == Action.CREATE or (changes and all(change["before"] is None for change in changes))
        if creation:
            values = {change["field"]: change["after"] for change in changes}
            details = [
                _("from %(start)s until %(end)s")
                % {
                    "start": _value("startDate", values.get("startDate")),
                    "end": _value("endDate", values.get("endDate")),
                }
            ]
        elif action == Action.STOP:
            details = [_("stops now; the recipient keeps the history of the shared period")]
        elif action == Action.DELETE:
            details = [_("deleted: nothing was shared yet")]
        elif action == Action.NOOP:
            details = []
        else:
            details = [
                _("%(field)s: %(before)s → %(after)s")
                % {
                    "field": FIELD_LABELS.get(change["field"], change["field"]),
                    "before": _value(change["field"], change["before"]),
                    "after": _value(change["field"], change["after"]),
                }
                for change in changes
                if action == Action.UPDATE or change["field"] not in ("reference", "notificationEnabled")
            ]
        sharing_id = step.get("sharingId")
        rows.append(
            {
                "action": action,
                "action_label": ACTION_LABELS.get(action, action),
                "badge": PLAN_BADGES.get(action, "plain"),
                "asset_id": step["assetId"],
                "machine": machines.get(step["assetId"], step["assetId"]),
                "line": step.get("lineReference") or "",
                "sharing_id": sharing_id if sharing_id in sharing_ids else None,
                "details": details,
                "code": step.get("code") or "",
                "reason": step.get("reason") or "",
            }
        )
    return rows


def summary_words(summary: dict) -> str:
    """ "2 new, 1 stopped": the counts of a plan that are not zero."""
    parts = [SUMMARY_LABELS[action] % {"count": summary[action]} for action in Action.ALL if summary.get(action)]
    return ", ".join(parts) or _("nothing")


def _warning_rows(warnings, machines: dict) -> list[dict]:
    return [
        {
            "code": warning.code,
            "machine": machines.get(str(warning.asset_id), str(warning.asset_id)),
            "field": FIELD_LABELS.get(warning.field, warning.field),
            "message": warning.message,
        }
        for warning in warnings
    ]


def _plan_context(result: services.ApplyResult, organisation) -> dict:
    steps = result.plan.as_json()
    machines = _machine_labels(organisation, [step["assetId"] for step in steps])
    existing = {str(sharing.pk) for sharing in result.sharings}
    return {
        "steps": plan_rows(steps, machines, sharing_ids=existing),
        "summary": summary_words(result.plan.summary),
        "writes": result.plan.writes,
        "conflicts": len(result.plan.conflicts),
        "warnings": _warning_rows(result.plan.warnings, machines),
    }


# --- the list --------------------------------------------------------------------------------------------------------


def _row(contract: Contract, counts: dict) -> dict:
    state = contract.desired_state or {}
    return {
        "contract": contract,
        "badge": STATUS_BADGES.get(contract.status, "plain"),
        "customer": (state.get("properties") or {}).get("customer", ""),
        "machines": len(state.get("lines") or ()),
        "start": _instant(state.get("startDate")),
        "end": _instant(state.get("endDate")),
        "sharings": [
            {"status": status, "label": label, "count": counts[status]}
            for status, label in SharingStatus.choices
            if counts.get(status)
        ],
    }


@organisation_page
@require_GET
def contract_list(request):
    organisation = request.organisation
    data = request.GET.copy()
    filterset = ContractFilterSet(data, organisation=organisation)
    without_status = data.copy()
    without_status.pop("status", None)
    counted = dict(
        ContractFilterSet(without_status, organisation=organisation)
        .qs.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    selected = data.getlist("status")
    chips = [{"value": None, "label": _("All"), "count": sum(counted.values()), "current": not selected}]
    chips += [
        {"value": status, "label": label, "count": counted.get(status, 0), "current": selected == [status]}
        for status, label in ContractStatus.choices
    ]
    page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    contracts = list(page.object_list)
    counts = selectors.sharing_counts_of(contracts)
    page.object_list = [_row(contract, counts[contract.pk]) for contract in contracts]
    filtered = any(value for key, value in request.GET.items() if key not in ("page", "ordering") and value)
    context = {
        "nav": "share_centre",
        "tab": "contracts",
        "list_url": reverse("contracts:list"),
        "filterset": filterset,
        "chips": chips,
        "selected_statuses": selected,
        # The filters' choices: only the whole page draws them, a fragment has no filter form.
        "recipients": [] if pages.fragment_requested(request) else selectors.contract_recipients(organisation),
        "page_obj": page,
        "rows": page.object_list,
        "filtered": filtered,
        "can_manage": request.user.is_organisation_admin,
    }
    response = pages.render_page(request, "contracts/contracts.html", context, fragment="#results")
    if pages.fragment_requested(request):
        used = QueryDict(mutable=True)
        for key, values in request.GET.lists():
            if any(values):
                used.setlist(key, [value for value in values if value])
        push_url(response, f"{request.path}?{used.urlencode()}" if used else request.path)
    return response


# --- a contract's page -----------------------------------------------------------------------------------------------


def _contract_context(request, contract: Contract) -> dict:
    organisation = request.organisation
    now = timezone.now()
    # By line (the contract's own order), then oldest first: a swapped line shows its old sharing, then its new one.
    sharings = sorted(
        services.contract_sharings(contract),
        key=lambda sharing: (not sharing.contract_line, sharing.contract_line, sharing.created_at),
    )
    history = selectors.contract_history(contract)
    state = contract.desired_state or {}
    asset_ids = {str(link.machine_id) for sharing in sharings for link in sharing.sharing_machines.all()}
    asset_ids |= {line["assetId"] for line in state.get("lines") or ()}
    asset_ids |= {step["assetId"] for apply in history for step in apply.plan}
    machines = _machine_labels(organisation, asset_ids)
    rows = []
    for sharing in sharings:
        links = list(sharing.sharing_machines.all())
        machine_id = str(links[0].machine_id) if links else ""
        status = sharing.status_at(now)
        rows.append(
            {
                "sharing": sharing,
                "machine_id": machine_id,
                "machine": machines.get(machine_id, machine_id),
                "status": status,
                "status_label": SharingStatus(status).label,
            }
        )
    labels = {row["sharing"].pk: row["machine"] for row in rows}
    timeline = sharings_timeline(
        sharings=sharings,
        row_label=lambda sharing: labels.get(sharing.pk, ""),
        chart_id="contract-timeline",
        title=_("The contract's sharings"),
        now=now,
        tz=timezone.get_current_timezone(),
    )
    existing = {str(sharing.pk) for sharing in sharings}
    applies = [
        {
            "apply": apply,
            "summary": summary_words(apply.summary),
            "steps": plan_rows(apply.plan, machines, sharing_ids=existing),
        }
        for apply in history
    ]
    can_manage = request.user.is_organisation_admin
    return {
        "nav": "share_centre",
        "contract": contract,
        "badge": STATUS_BADGES.get(contract.status, "plain"),
        "state": state,
        "start": _instant(state.get("startDate")),
        "end": _instant(state.get("endDate")),
        "properties": [
            (PROPERTY_LABELS.get(key, key), value) for key, value in sorted((state.get("properties") or {}).items())
        ],
        "data_packs": _value("dataPacksCodes", state.get("dataPacksCodes") or []),
        "rows": rows,
        "timeline": timeline,
        "drift": _warning_rows(services.contract_drift(contract, sharings, now), machines),
        "applies": applies,
        "can_manage": can_manage,
        "active": contract.status == ContractStatus.ACTIVE,
        "machines": machines,
    }


@organisation_page
@require_GET
def contract_detail(request, contract_id):
    contract = selectors.contract_get_by_id(organisation=request.organisation, contract_id=contract_id)
    return pages.render_page(
        request, "contracts/contract_detail.html", _contract_context(request, contract), fragment="#contract"
    )


# --- contract-wide actions -------------------------------------------------------------------------------------------


def _generation(request) -> int | None:
    try:
        return int(request.POST.get("generation", ""))
    except ValueError:
        return None


def _action_page(request, context: dict, status: int = 200):
    return pages.render_page(request, "contracts/contract_action.html", context, fragment="#action", status=status)


def _apply_previewed(request, contract: Contract, form, context: dict):
    """Apply what the admin previewed: the form's desired state, over the generation the preview read. None when it
    must be previewed again (the form or the contract changed since; `context["notice"]` says so)."""
    if request.POST.get("previewed") != form.fingerprint():
        context["notice"] = _(
            "The form or the contract changed since the preview: nothing was applied. Here is the plan of what "
            "the form says now; apply it if it is right."
        )
        return None
    now = timezone.now()
    try:
        result = services.contract_apply(
            actor=request.actor,
            reference=contract.reference,
            desired=form.desired(now),
            expected_generation=_generation(request),
            now=now,
        )
    except services.ContractConflict as conflict:
        context.update(_plan_context(conflict.result, request.organisation), refused=conflict.message)
        return _action_page(request, context, 409)
    except PreconditionFailed as changed:
        context["notice"] = changed.message + " " + _("Nothing was applied: read the new plan below.")
        return None
    except DomainError as error:
        pages.show_on_form(form, error)
        return _action_page(request, context, 400)
    summary = summary_words(result.plan.summary)
    messages.success(request, _("Contract applied: %(summary)s.") % {"summary": summary})
    return redirect("contracts:detail", contract_id=contract.pk)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def contract_action(request, contract_id, action):
    """GET: the action's form. POST: the plan of what was typed (a dry run), with the button that applies it; the
    apply (step=apply) is the same desired state over the generation previewed, so that nothing applies unseen."""
    organisation = request.organisation
    contract = selectors.contract_get_by_id(organisation=organisation, contract_id=contract_id)
    form_class = ACTIONS[action]

    def form_of(*data):
        kwargs: dict = {"contract": contract}
        if form_class is SwapMachineForm:
            lines = (contract.desired_state or {}).get("lines") or ()
            kwargs["machine_labels"] = _machine_labels(organisation, [line["assetId"] for line in lines])
        return form_class(*data, **kwargs)

    context: dict = {"nav": "share_centre", "contract": contract, "action": action}
    if contract.status != ContractStatus.ACTIVE:
        context["closed"] = True
        return _action_page(request, context, 409 if request.method == "POST" else 200)
    if request.method != "POST":
        context["form"] = form_of()
        return _action_page(request, context)
    form = context["form"] = form_of(request.POST)
    if not form.is_valid():
        return _action_page(request, context, 400)
    if request.POST.get("step") == "apply":
        response = _apply_previewed(request, contract, form, context)
        if response is not None:
            return response
        contract.refresh_from_db()
        form = context["form"] = form_of(request.POST)  # the plan again, from the contract as it is now
        if not form.is_valid():
            return _action_page(request, context, 400)
    now = timezone.now()
    try:
        result = services.contract_apply(
            actor=request.actor, reference=contract.reference, desired=form.desired(now), dry_run=True, now=now
        )
    except services.ContractConflict as conflict:
        result = conflict.result
    except DomainError as error:
        pages.show_on_form(form, error)
        return _action_page(request, context, 400)
    context.update(_plan_context(result, organisation), previewed=True, fingerprint=form.fingerprint())
    context["generation"] = contract.generation
    return _action_page(request, context)


# --- the CSV import --------------------------------------------------------------------------------------------------


def _import_rows(result: imports.ImportResult, organisation) -> list[dict]:
    contracts = []
    steps = [step for apply in result.results for step in apply.plan.as_json()]
    machines = _machine_labels(organisation, [step["assetId"] for step in steps])
    for apply in result.results:
        existing = {str(sharing.pk) for sharing in apply.sharings}
        contracts.append(
            {
                "reference": apply.desired.reference,
                "created": apply.created,
                "summary": summary_words(apply.plan.summary),
                "steps": plan_rows(apply.plan.as_json(), machines, sharing_ids=existing),
                "warnings": _warning_rows(apply.plan.warnings, machines),
                "conflicts": len(apply.plan.conflicts),
            }
        )
    return contracts


def _totals(result: imports.ImportResult) -> dict:
    totals = dict.fromkeys(Action.ALL, 0)
    for apply in result.results:
        for action, count in apply.plan.summary.items():
            totals[action] += count
    return totals


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def contract_import(request):
    """GET: the upload form. POST with a file: its preview, the dry-run plan of every contract in it (or every error
    by row and column), the file's text carried in the page so that applying sends exactly what was previewed. POST
    with step=apply: the same text, applied; nothing applies unless the whole file is valid and free of conflicts."""
    organisation = request.organisation
    context: dict = {"nav": "share_centre", "form": ImportForm()}
    status = 200
    if request.method == "POST":
        if request.POST.get("step") == "apply":
            raw = request.POST.get("content", "").encode("utf-8")
            name = request.POST.get("name", "")
            dry_run = False
        else:
            form = ImportForm(request.POST, request.FILES)
            context["form"] = form
            if not form.is_valid():
                return pages.render_page(
                    request, "contracts/contract_import.html", context, fragment="#import", status=400
                )
            upload = form.cleaned_data["file"]
            name = upload.name
            raw = upload.read(IMPORT_MAX_BYTES + 1)
            dry_run = True
            if len(raw) > IMPORT_MAX_BYTES:
                form.add_error("file", _("The file is too large (5 MB at most)."))
                return pages.render_page(
                    request, "contracts/contract_import.html", context, fragment="#import", status=400
                )
        context["name"] = name
        try:
            result = imports.contracts_import(actor=request.actor, raw=raw, dry_run=dry_run)
        except imports.CsvInvalid as invalid:
            context["errors"] = invalid.errors
            status = 400
        except imports.ImportConflict as conflict:
            # The contracts changed since the preview: the same file now breaks a rule. Nothing was applied.
            context.update(
                contracts=_import_rows(conflict.result, organisation),
                summary=summary_words(_totals(conflict.result)),
                conflicts=conflict.result.conflicts,
            )
            context["refused"] = _("Some plans break the sharing rules now: nothing was applied.")
            status = 409
        else:
            if not dry_run:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d contract applied from the file: %(summary)s.",
                        "%(count)d contracts applied from the file: %(summary)s.",
                        len(result.results),
                    )
                    % {"count": len(result.results), "summary": summary_words(_totals(result))},
                )
                return redirect("contracts:list")
            context.update(
                contracts=_import_rows(result, organisation),
                summary=summary_words(_totals(result)),
                conflicts=result.conflicts,
                content=raw.decode("utf-8-sig"),
                previewed=True,
            )
    return pages.render_page(request, "contracts/contract_import.html", context, fragment="#import", status=status)


@organisation_page
@require_GET
def contract_import_template(request):
    """The API's template (imports.template_csv): the columns and one example row."""
    response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contracts.csv"'
    return response
