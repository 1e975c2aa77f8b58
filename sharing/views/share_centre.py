"""The share centre: the organisation's sharings in both directions, filtered (one FilterSet for the list, its
timeline and its CSV export), as a list or machine by machine on a timeline; htmx gets the results fragment and the
address bar follows the filters. Also the landing page for visitors."""

import datetime as dt
from html import escape

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Prefetch, TextChoices
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts.portal import organisation_page
from fleet.glance import naming as fleet_naming
from fleet.models import Machine
from fleet.selectors import workspaces_of
from hiboo_connect import pages
from hiboo_connect.moments import Moments

from .. import exports, selectors
from ..filters import Direction, SharingFilterSet
from ..lifecycle import SharingStatus
from ..selectors import COUNT_CAP
from ..timeline import TimelinePeriod, Zoom, share_centre_timeline

PER_PAGE = 25
MACHINES_SHOWN_IN_LIST = 2
SORTABLE_COLUMNS = ("status", "reference", "start", "end")


#: Pending requests for a later end linked from the share centre (the count names them all).
EXTENSION_REQUESTS_LINKED = 5


def machines_prefetch():
    """A sharing's machines in the order every page lists them."""
    return Prefetch("machines", queryset=Machine.objects.order_by("make", "model", "serial_number"))


def home(request):
    """The share centre for a logged-in user; the landing page for visitors."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return share_centre(request)


def _list_data(request, counted: dict[str, int] | None = None):
    """The filters asked for. With no direction given, the one that has sharings: "Shared by us" unless the
    organisation only receives (an invited organisation's first visit opened on an empty tab)."""
    data = request.GET.copy()
    if data.get("direction") not in Direction.values:
        if counted is None:
            counted = selectors.sharings_count_by_direction(request.organisation)
        only_receives = not counted[Direction.OUTGOING] and counted[Direction.INCOMING]
        data["direction"] = Direction.INCOMING if only_receives else Direction.OUTGOING
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


def _chip(value, label, count: int, *, current: bool) -> dict:
    """A status chip: its count up to COUNT_CAP, and whether there are more."""
    return {
        "value": value,
        "label": label,
        "count": min(count, COUNT_CAP),
        "capped": count > COUNT_CAP,
        "current": current,
    }


def _page_number(value) -> int:
    """The page a `page` parameter asks for, as the paginator will first read it (1 if it is no whole number); the
    paginator still decides which page is shown (the last one, past the end)."""
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


class CappedPaginator(Paginator):
    """Pages of a list whose count is known up to COUNT_CAP only (selectors.counts_capped; each of `counts` is at most
    COUNT_CAP + 1). Under the cap it is Django's paginator with the count given; over it, "Page 3" without a total,
    and whether a next page exists is read with the page (one row more), so any page can still be reached."""

    def __init__(self, object_list, per_page, *, counts: list[int]):
        super().__init__(object_list, per_page)
        self.capped = any(count > COUNT_CAP for count in counts)
        self.count = min(sum(counts), COUNT_CAP + 1) if self.capped else sum(counts)

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def get_page(self, number):
        try:
            return super().get_page(number)
        except EmptyPage:  # past the last page: show the last one whose rows were counted
            return self.page(self.num_pages)

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = self._get_page(rows[: self.per_page], number, self)
        more = len(rows) > self.per_page
        page.has_next = lambda: more
        return page


def _list_rows(sharings: list, *, incoming: bool, moments: Moments) -> SafeString:
    """The list's rows, a sharing each: its status now, reference (and contract), machines, the other side, recipient
    and dates. Written here rather than by the template, which cost about a millisecond and a half a row (a quarter
    of the page); tests/sharing/test_views.py reads them."""
    labels = {
        "Status": escape(_("Status")),
        "Reference": escape(_("Reference")),
        "Machines": escape(_("Machines")),
        "Recipient": escape(_("Recipient")),
        "Start": escape(_("Start")),
    }
    end_label = escape(_("End"))
    other_label = escape(_("Owner")) if incoming else escape(_("Beneficiary"))
    no_reference, invited = escape(_("(no reference)")), escape(_("invited, no account yet"))
    stopped, open_ended = escape(_("stopped")), escape(_("open-ended"))
    lines = []
    for sharing in sharings:
        reference = escape(sharing.reference) if sharing.reference else no_reference
        contract = ""
        if sharing.contract_id and not incoming:
            words = escape(_("Contract %(reference)s") % {"reference": sharing.contract.reference})
            url = escape(reverse("contracts:detail", args=[sharing.contract_id]))
            contract = f'<span class="sub"><a href="{url}">{words}</a></span>'
        machines = list(sharing.machines.all())
        shown = ", ".join(
            f'<span class="nowrap">{escape(machine.model)} {escape(machine.serial_number)}</span>'
            for machine in machines[:MACHINES_SHOWN_IN_LIST]
        )
        if (more := len(machines) - MACHINES_SHOWN_IN_LIST) > 0:
            words = ngettext("and %(counter)s more", "and %(counter)s more", more) % {"counter": more}
            shown += f'<span class="sub">{escape(words)}</span>'
        if incoming:
            other = escape(sharing.owner.name)
        elif sharing.beneficiary:
            other = escape(sharing.beneficiary.name)
        else:
            other = f'{escape(sharing.recipient_organisation_name)}<span class="sub">{invited}</span>'
        if sharing.stopped_at:
            end = f'<span class="sub">{stopped}</span>{moments.html(sharing.stopped_at)}'
        elif sharing.end_at:
            end = moments.html(sharing.end_at)
        else:
            end = f'<span class="muted">{open_ended}</span>'
        url = escape(reverse("sharing:detail", args=[sharing.pk]))
        lines.append(
            f'<tr><td data-label="{labels["Status"]}"><span class="badge badge-{escape(sharing.status_now)}">'
            f"{escape(str(sharing.status_now_label))}</span></td>"
            f'<td class="cell-main" data-label="{labels["Reference"]}">'
            f'<a class="row-title" href="{url}">{reference}</a>{contract}</td>'
            f'<td data-label="{labels["Machines"]}">{shown}</td>'
            f'<td data-label="{other_label}">{other}</td>'
            f'<td data-label="{labels["Recipient"]}">{escape(sharing.recipient_email)}</td>'
            f'<td data-label="{labels["Start"]}">{moments.html(sharing.start_at)}</td>'
            f'<td data-label="{end_label}">{end}</td></tr>'
        )
    return mark_safe("".join(lines))


class View(TextChoices):
    """How the share centre shows the filtered sharings (the `view` query parameter)."""

    LIST = "list", gettext_lazy("List")
    TIMELINE = "timeline", gettext_lazy("Timeline")


def _timeline_page(value) -> int:
    """The timeline's page of machines from the query string: a number from 1; anything else is the first page."""
    try:
        page = int(value)
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


#: The filters set in the share centre's Filters panel: its button counts them.
PANEL_FILTERS = ("period", "date_from", "date_to", "workspace")
#: Filters a link may carry that no control of the page sets (the API's, links from other pages): the form keeps them
#: as hidden fields, and each shows as a pill that drops it.
LINKED_FILTERS = ("reference", "recipient", "contract", "asset_id")


def _pill_value(filterset, name: str, raw: str) -> str:
    """How a pill names the value of a filter: a choice's label, a date in the date style, a workspace's name, a
    machine as the organisation knows it (its name and what the name does not say); the text given when it is not
    valid or names nothing of the organisation's."""
    cleaned = filterset.form.cleaned_data.get(name) if filterset.is_valid() else None
    if cleaned is None or cleaned == "":
        return raw
    if name == "period":
        return str(dict(filterset.form.fields["period"].choices).get(raw, raw))
    if name in ("date_from", "date_to"):
        return formats.date_format(cleaned, "DATE_FORMAT")
    if name == "workspace":
        return cleaned.name
    if name == "asset_id":
        known = selectors.machine_known_as(organisation=filterset.organisation, machine_id=cleaned)
        if known is not None:
            naming = fleet_naming(*known)
            return f"{naming.name} · {naming.detail}" if naming.detail else naming.name
    return str(cleaned)


def _filter_pills(request, filterset) -> list[dict]:
    """The filters in use that the page's first line does not show, one pill each: what it is, and the address of the
    same list without it (every other filter kept; back to the first page)."""
    labels = {
        "q": _("Search"),
        "period": _("Period"),
        "date_from": _("Active from"),
        "date_to": _("Active until"),
        "workspace": _("Workspace"),
        "reference": _("Reference"),
        "recipient": _("Recipient"),
        "contract": _("Contract"),
        "asset_id": _("Machine"),
    }
    pills = []
    for name, label in labels.items():
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        without = request.GET.copy()
        without.pop(name, None)
        without.pop("page", None)
        query = without.urlencode()
        pills.append(
            {
                "name": name,
                "label": label,
                "value": _pill_value(filterset, name, raw),
                "url": f"{reverse('home')}?{query}" if query else reverse("home"),
            }
        )
    return pills


def _period_filters(period: TimelinePeriod) -> dict[str, str]:
    return {"date_from": period.first.isoformat(), "date_to": period.last.isoformat()}


def _zoom_links(period: TimelinePeriod, today: dt.date) -> list[dict]:
    """The timeline's zoom: a month, a quarter, or six months, each around today when the period shown holds it (the
    address then has no dates), else around the period's first day."""
    anchor = today if period.contains(today) else period.first
    links = []
    for zoom, label in ((Zoom.MONTH, Zoom.MONTH.label), (Zoom.QUARTER, Zoom.QUARTER.label), (None, _("6 months"))):
        target = TimelinePeriod.of_filters(date_from=None, date_to=None, today=anchor, zoom=zoom)
        dates = {"date_from": None, "date_to": None} if anchor == today else _period_filters(target)
        current = period.zoom == zoom and (zoom is not None or period.last - period.first == target.last - target.first)
        links.append({"zoom": zoom.value if zoom else None, "label": label, "current": current, **dates})
    return links


@organisation_page
@require_GET
def share_centre(request):
    organisation = request.organisation
    counted = selectors.sharings_count_by_direction(organisation)
    data = _list_data(request, counted)
    direction = data["direction"]
    filterset = SharingFilterSet(data, organisation=organisation)

    # Counts for the chips: every status under the other filters, and per direction, each in one statement and capped
    # (selectors.COUNT_CAP says why). The paginator's count is the sum of the selected chips: no third count.
    without_status = data.copy()
    without_status.pop("status", None)
    unselected = SharingFilterSet(without_status, organisation=organisation).qs
    selected_statuses = data.getlist("status")
    view = View.TIMELINE if data.get("view") == View.TIMELINE else View.LIST
    searched = bool(data.get("q", "").strip())
    known = None
    if searched and view == View.LIST and filterset.is_valid():
        # A search may match thousands: they are counted and the asked page's ids taken in one pass over them.
        known = selectors.sharings_searched(
            unselected,
            statuses=selected_statuses,
            offset=(_page_number(request.GET.get("page")) - 1) * PER_PAGE,
            limit=PER_PAGE + 1,  # one more: whether a next page exists when the count is capped (CappedPaginator)
        )
        status_counts = known.counts
    else:
        status_counts = selectors.sharings_count_by_status(unselected, grouped=searched)
    direction_counts = {direction: min(count, COUNT_CAP) for direction, count in counted.items()}
    chips = [_chip(None, _("All"), status_counts["all"], current=not selected_statuses)]
    chips += [
        _chip(status, label, status_counts[status], current=selected_statuses == [status])
        for status, label in SharingStatus.choices
    ]

    zoom = Zoom.of(data.get("zoom"))
    page = timeline = period_nav = list_rows = None
    if view == View.TIMELINE:
        dates = filterset.form.cleaned_data if filterset.is_valid() else {}
        today = timezone.localdate()
        period = TimelinePeriod.of_filters(
            date_from=dates.get("date_from"), date_to=dates.get("date_to"), today=today, zoom=zoom
        )
        timeline = share_centre_timeline(
            organisation=organisation,
            sharings=filterset.qs,
            incoming=direction == Direction.INCOMING,
            period=period,
            page=_timeline_page(request.GET.get("page")),
            now=timezone.now(),
            tz=timezone.get_current_timezone(),
        )
        period_nav = {
            "period": period,
            "earlier": _period_filters(period.earlier()),
            "later": _period_filters(period.later()),
            "zoom_links": _zoom_links(period, today),
        }
    else:
        related = ("owner", "beneficiary", "contract")
        if searched:
            # The page's ids first, then its rows (selectors.SharingsByIdsFirst); those of the asked page were read.
            rows = selectors.SharingsByIdsFirst(
                filterset.qs, related=related, prefetch=(machines_prefetch(),), known=known
            )
        else:
            rows = filterset.qs.select_related(*related).prefetch_related(machines_prefetch())
        if filterset.is_valid() and set(selected_statuses) <= set(status_counts):
            # The rows listed are those of the selected chips (or of "All"), already counted above.
            paginator = CappedPaginator(rows, PER_PAGE, counts=[status_counts[s] for s in selected_statuses or ["all"]])
        else:
            paginator = Paginator(rows, PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        now = timezone.now()
        page.object_list = list(page.object_list)
        for sharing in page.object_list:
            # Rows show the status the dates give now; the cached column only serves the filters and counts.
            sharing.status_now = sharing.status_at(now)
            sharing.status_now_label = SharingStatus(sharing.status_now).label
        list_rows = _list_rows(
            page.object_list,
            incoming=direction == Direction.INCOMING,
            moments=Moments(timezone.get_current_timezone()),
        )
    pills = _filter_pills(request, filterset)
    filtered = any(
        value
        for key, value in request.GET.items()
        if key not in ("direction", "page", "ordering", "view", "zoom") and value
    )
    context = {
        "view": view,
        "zoom": zoom.value if zoom and view == View.TIMELINE else "",
        "timeline": timeline,
        "period_nav": period_nav,
        "nav": "share_centre",
        "list_url": reverse("home"),
        "filterset": filterset,
        "workspaces": workspaces_of(organisation),
        "direction": direction,
        "direction_counts": direction_counts,
        "direction_counts_capped": {direction: count > COUNT_CAP for direction, count in counted.items()},
        "chips": chips,
        "selected_statuses": selected_statuses,
        "page_obj": page,
        "sharings": page.object_list if page else None,
        "list_rows": list_rows,
        "sort_headers": _sort_headers(filterset),
        "filtered": filtered,
        "machines_shown": MACHINES_SHOWN_IN_LIST,
        "can_share": request.user.is_organisation_admin,
        "cap": COUNT_CAP,
        "pills": pills,
        "panel_count": sum(1 for pill in pills if pill["name"] in PANEL_FILTERS),
        "panel_open": any(filterset.form[name].errors for name in PANEL_FILTERS),
        "linked_filters": [(name, request.GET[name]) for name in LINKED_FILTERS if request.GET.get(name)],
    }
    fragment = pages.fragment_requested(request)
    # A pill's removal redraws the form's fields too (out of band, like the state the list itself changes): they must
    # drop the filter as well. Other answers leave them alone: one may be in use.
    context["redraw_filters"] = fragment and request.headers.get("X-Redraw-Filters") == "true"
    if request.user.is_organisation_admin and not fragment:
        # One count, for the discreet link to the failed notifications (the list fragment never shows it).
        context["failed_notifications"] = selectors.notifications_failed(organisation).count()
        # The requests for a later end its admins are to answer: a count, and links to the first few.
        waiting = selectors.extension_requests_waiting_for(organisation)
        context["extension_requests"] = list(waiting[:EXTENSION_REQUESTS_LINKED])
        if context["extension_requests"]:
            context["extension_requests_count"] = waiting.count()
    response = pages.render_page(request, "sharing/share_centre.html", context, fragment="#results")
    patch_vary_headers(response, ("X-Redraw-Filters",))
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
    if not filterset.is_valid():
        return pages.form_refused(filterset.form)  # the list shows the same refusal on its field
    response = StreamingHttpResponse(exports.sharings_lines(filterset.qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.sharings_filename()}"'
    return response
