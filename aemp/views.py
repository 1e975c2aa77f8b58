"""The ISO 15143-3 (AEMP 2.0) feed (DESIGN §8): the fleet snapshot in pages of 100 machines, one machine's snapshot,
and one data element's time series. The organisation's own machines in full; a received machine only with what its
sharings' windows and packs allow — every read goes through fleet's selectors and access scopes, so an element of a
pack not shared is absent and, after a sharing's end, only the window's history shows. Another organisation's
machine is a 404. Errors answer in the API's JSON shape."""

import datetime as dt
import math

from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from accounts.api import ApiView
from accounts.authentication import ApiKeyAuthentication
from fleet.access import scope_for
from fleet.selectors import (
    fault_codes_visible_to,
    machine_get,
    machines_snapshot,
    machines_visible_to,
    positions_visible_to,
    readings_visible_to,
)
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.fields import format_instant
from hiboo_connect.errors import InvalidInput, NotFound

from . import documents, schema  # noqa: F401 (schema: the Basic scheme's description, registered on import)
from .authentication import BasicApiKeyAuthentication, FeedPermission
from .renderers import IsoJsonRenderer, IsoSnapshotJsonRenderer, IsoXmlRenderer

PAGE_SIZE = 100
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class FeedView(ApiView):
    authentication_classes = [BasicApiKeyAuthentication, ApiKeyAuthentication]
    permission_classes = [FeedPermission]
    renderer_classes = [IsoXmlRenderer, IsoJsonRenderer, IsoSnapshotJsonRenderer]

    def perform_content_negotiation(self, request, force=False):
        # DRF answers a format it does not know with a bare "Not found." and reads an empty one as none given; the
        # schema lists the formats, and the answer says which they are.
        asked = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE or "format")
        formats = [renderer.format for renderer in self.get_renderers()]
        if not force and asked is not None and asked not in formats:
            raise NotFound(
                "unknown_format",
                _("There is no format “%(format)s”: give one of %(formats)s, or leave the parameter out.")
                % {"format": asked[:40], "formats": ", ".join(formats)},
            )
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            # Errors keep the API's one JSON shape, whatever format the document would have had.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        patch_vary_headers(response, ["Accept"])
        return response

    def page_url(self, name: str, page: int, **kwargs) -> str:
        return reverse(f"api:aemp:{name}", kwargs={**kwargs, "page": page}, request=self.request)


def _last_page(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def _page_or_404(page: int, last: int) -> None:
    if not 1 <= page <= last:
        raise NotFound("page_not_found", _("There is no such page (pages run from 1 to %(last)d).") % {"last": last})


def _instant(text: str, field: str) -> dt.datetime:
    """A UTC instant from the URL: ISO 8601, a time zone optional (the standard's dates are UTC), or a date alone."""
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput(
            "invalid_date", _("Give a date and time in ISO 8601, for example 2026-07-01T08:00:00Z."), field=field
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise InvalidInput("invalid_date", _("Give a date between 1970 and 2099."), field=field)
    return moment


DOCUMENT_RESPONSES = {
    (200, "application/xml"): OpenApiResponse(OpenApiTypes.STR, description="XML in the ISO 15143-3 namespace."),
    (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The same document as JSON."),
    (200, "application/iso15143-snapshot+json"): OpenApiResponse(OpenApiTypes.OBJECT, description="As JSON."),
    401: api_schema.UNAUTHENTICATED,
    404: api_schema.NOT_FOUND,
}
AUTH_NOTE = (
    " Authenticate with an API key (viewer keys are enough) as the password of HTTP Basic authentication, or in the "
    "x-access-token header. XML by default; JSON with Accept: application/json."
)


class FleetView(FeedView):
    @extend_schema(
        operation_id="aemp_fleet",
        tags=["ISO 15143-3 feed"],
        summary="Fleet snapshot (ISO 15143-3)",
        description=(
            "Your own machines and the machines shared with you, 100 a page from page 1, each with the newest value of "
            "each data element you may see, and Links self/next/prev/last." + AUTH_NOTE
        ),
        responses=DOCUMENT_RESPONSES,
    )
    def get(self, request, page):
        now = timezone.now()
        machines = machines_visible_to(self.organisation).order_by("pk")
        last = _last_page(machines.count())
        _page_or_404(page, last)
        chosen = list(machines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
        snapshots = machines_snapshot(
            organisation=self.organisation, machines=chosen, metrics=documents.FEED_METRICS, now=now
        )
        fleet = documents.Node(
            "Fleet",
            {"version": documents.VERSION, "snapshotTime": format_instant(now) or ""},
            [
                *documents.links(lambda number: self.page_url("fleet", number), page, last),
                *(documents.equipment(snapshots[machine.pk], repeated=True) for machine in chosen),
            ],
            lists=("Links", "Equipment"),
        )
        return Response(fleet)


class EquipmentView(FeedView):
    @extend_schema(
        operation_id="aemp_equipment",
        tags=["ISO 15143-3 feed"],
        summary="One machine's snapshot (ISO 15143-3)",
        description="One machine of the fleet snapshot, by its EquipmentID (the asset's id)." + AUTH_NOTE,
        responses=DOCUMENT_RESPONSES,
    )
    def get(self, request, id):
        now = timezone.now()
        machine = machine_get(organisation=self.organisation, machine_id=id)
        snapshot = machines_snapshot(
            organisation=self.organisation, machines=[machine], metrics=documents.FEED_METRICS, now=now
        )[machine.pk]
        node = documents.equipment(snapshot)
        node.attributes = {"version": documents.VERSION, "snapshotTime": format_instant(now) or ""}
        return Response(node)


class TimeSeriesView(FeedView):
    @extend_schema(
        operation_id="aemp_time_series",
        tags=["ISO 15143-3 feed"],
        summary="One data element's time series (ISO 15143-3)",
        description=(
            "The values of one data element of a machine in [startDateUTC, endDateUTC), oldest first, 100 a page from "
            "page 1. Data elements: "
            + ", ".join(
                element.series for element in (documents.LOCATION, *documents.NUMERIC_ELEMENTS, documents.FAULT_CODES)
            )
            + " (also by their snapshot names, without case). For a machine shared with you, only the values inside "
            "its sharings' windows, of their data packs." + AUTH_NOTE
        ),
        parameters=[
            OpenApiParameter("element", str, OpenApiParameter.PATH, description="The data element, e.g. Locations."),
            OpenApiParameter("start", str, OpenApiParameter.PATH, description="startDateUTC, ISO 8601."),
            OpenApiParameter("end", str, OpenApiParameter.PATH, description="endDateUTC, ISO 8601 (excluded)."),
        ],
        responses={**DOCUMENT_RESPONSES, 400: api_schema.INVALID},
    )
    def get(self, request, id, element, start, end, page):
        now = timezone.now()
        machine = machine_get(organisation=self.organisation, machine_id=id)
        data_element = documents.SERIES.get(element.casefold())
        if data_element is None:
            raise NotFound("element_not_found", _("There is no such data element."))
        since, until = _instant(start, "startDateUTC"), _instant(end, "endDateUTC")
        if until <= since:
            raise InvalidInput("invalid_period", _("The end must come after the start."), field="endDateUTC")
        scope = scope_for(organisation=self.organisation, machine=machine, now=now)
        read = {"organisation": self.organisation, "machine": machine, "since": since, "until": until, "scope": scope}
        if data_element is documents.LOCATION:
            rows, entry = positions_visible_to(**read), lambda row: documents.location(row, repeated=True)
        elif data_element is documents.FAULT_CODES:
            rows, entry = fault_codes_visible_to(**read), documents.fault_code
        else:
            rows = readings_visible_to(metrics=[data_element.metric], **read)

            def entry(row):
                return documents.reading_element(data_element, row, repeated=True)

        rows = rows.order_by("timestamp", *(("identifier",) if data_element is documents.FAULT_CODES else ()))
        last = _last_page(rows.count())
        _page_or_404(page, last)
        kwargs = {"id": machine.pk, "element": element, "start": start, "end": end}
        series = documents.Node(
            data_element.series,
            {"version": documents.VERSION},
            [
                *documents.links(lambda number: self.page_url("time-series", number, **kwargs), page, last),
                documents.equipment_header(machine),
                *(entry(row) for row in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]),
            ],
            lists=("Links", data_element.name),
        )
        return Response(series)
