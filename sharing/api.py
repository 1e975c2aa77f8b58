"""The public API of sharings, received assets and readings (DESIGN §6). Thin: reads go through sharing.selectors and
the one SharingFilterSet, writes through sharing.services, and the rules live there."""

import re
from collections.abc import Iterable
from typing import cast

from django.db.models import prefetch_related_objects
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.api import ApiView
from accounts.idempotency import IDEMPOTENCY_PARAMETER, run_idempotently
from fleet import selectors as fleet_selectors
from fleet.api import WorkspaceReferenceSerializer
from fleet.data_packs import ALL_DATA_PACKS, METRICS
from fleet.selectors import workspaces_of
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.errors import camel_case
from hiboo_connect.api.fields import InstantField, PropertiesField, format_instant, parse_instant
from hiboo_connect.api.pagination import page_body, page_envelope, page_from, page_parameters, page_responses
from hiboo_connect.api.serializers import OrganisationReferenceSerializer, StrictSerializer
from hiboo_connect.errors import InvalidInput, NotFound

from . import selectors, services
from .filters import Direction, Period, SharingFilterSet
from .lifecycle import SharingStatus
from .models import ExtensionStatus

SHARING_FIELD_NAMES = {
    "start_at": "startDate",
    "end_at": "endDate",
    "machines": "assetIds",
    "machine_ids": "assetIds",
    "recipient_email": "recipient",
    "recipient_organisation_name": "recipientOrganisationName",
    "data_packs": "dataPacksCodes",
    "notification_enabled": "notificationEnabled",
}
#: API query parameter → SharingFilterSet parameter.
SHARING_FILTERS = {
    "reference": "reference",
    "status": "status",
    "assetId": "asset_id",
    "recipient": "recipient",
    "direction": "direction",
    "contract": "contract",
    "period": "period",
}
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SHARINGS_DEFAULT_LIMIT, SHARINGS_MAX_LIMIT = 50, 200
ASSETS_DEFAULT_LIMIT, ASSETS_MAX_LIMIT = 50, 200
READINGS_DEFAULT_LIMIT, READINGS_MAX_LIMIT = 100, 1000

SHARING_EXAMPLE = {
    "id": "5f0c8a43-6a43-4c2e-9d0a-3f1b6f4f9b1e",
    "reference": "CONTRACT-2026-0042",
    "status": "scheduled",
    "startDate": "2026-08-01T06:00:00Z",
    "endDate": "2026-08-31T18:00:00Z",
    "stoppedAt": None,
    "assetIds": ["0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61"],
    "recipient": "site.manager@buildco.example",
    "beneficiary": {"id": "a3c1e1b0-9d53-4d8c-b6a4-2f9f1b7c0e55", "name": "BuildCo"},
    "owner": {"id": "c7d2f4a9-1e3b-4f6a-8d0c-5b9e2a1f3c77", "name": "Rent & Go"},
    "dataPacksCodes": ["essential", "usage_hours"],
    "properties": {"customer": "BuildCo", "site": "Lyon Part-Dieu", "contract": "CONTRACT-2026-0042"},
    "notificationEnabled": True,
    "contract": "CONTRACT-2026-0042",
    "createdAt": "2026-07-12T09:30:00Z",
    "updatedAt": "2026-07-12T09:30:00Z",
}


# --- serializers -----------------------------------------------------------------------------------------------------


class SharingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.SerializerMethodField()
    startDate = InstantField(source="start_at")
    endDate = InstantField(source="end_at", allow_null=True)
    stoppedAt = InstantField(source="stopped_at", allow_null=True)
    assetIds = serializers.SerializerMethodField()
    recipient = serializers.EmailField(source="recipient_email")
    beneficiary = OrganisationReferenceSerializer(allow_null=True)
    owner = OrganisationReferenceSerializer()
    dataPacksCodes = serializers.ListField(source="data_packs", child=serializers.ChoiceField(ALL_DATA_PACKS))
    properties = PropertiesField()
    notificationEnabled = serializers.BooleanField(source="notification_enabled")
    contract = serializers.CharField(
        source="contract.reference",
        allow_null=True,
        help_text="The reference of the contract that manages this sharing (PUT /contracts/{reference}), or null.",
    )
    createdAt = InstantField(source="created_at")
    updatedAt = InstantField(source="updated_at")

    @extend_schema_field(serializers.ChoiceField(SharingStatus.values))
    def get_status(self, sharing) -> str:
        # Computed from the dates, so it is right even if the periodic job has not moved the cached status yet.
        return sharing.status_at(self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_assetIds(self, sharing) -> list[str]:
        return sorted(str(link.machine_id) for link in sharing.sharing_machines.all())

    def to_representation(self, instance) -> dict:
        # The fields above describe the schema and read requests; answers (lists, contract applies, the events of a
        # lifecycle batch) are built by sharing_data, several times faster than DRF's field-by-field walk.
        # tests/api/test_sharing_data.py holds the two to the same output.
        return sharing_data(instance, now=self.context.get("now") or timezone.now())


def _organisation_reference(organisation) -> dict | None:
    return None if organisation is None else {"id": str(organisation.pk), "name": organisation.name}


def sharing_data(sharing, *, now, machine_ids: Iterable | None = None) -> dict:
    """A sharing as the API shows it at `now` (SharingSerializer's fields, in their order). Its owner, beneficiary and
    contract are read through the sharing (select_related them), its machines from `sharing_machines` (prefetch),
    unless the caller gives their ids."""
    if machine_ids is None:
        machine_ids = [link.machine_id for link in sharing.sharing_machines.all()]
    properties = sharing.properties
    return {
        "id": str(sharing.pk),
        "reference": sharing.reference,
        "status": sharing.status_at(now),
        "startDate": format_instant(sharing.start_at),
        "endDate": format_instant(sharing.end_at),
        "stoppedAt": format_instant(sharing.stopped_at),
        "assetIds": sorted(str(machine_id) for machine_id in machine_ids),
        "recipient": sharing.recipient_email,
        "beneficiary": _organisation_reference(sharing.beneficiary),
        "owner": _organisation_reference(sharing.owner),
        "dataPacksCodes": list(sharing.data_packs),
        "properties": (
            None
            if properties is None
            else {str(key): None if value is None else str(value) for key, value in properties.items()}
        ),
        "notificationEnabled": bool(sharing.notification_enabled),
        "contract": sharing.contract.reference if sharing.contract_id is not None else None,
        "createdAt": format_instant(sharing.created_at),
        "updatedAt": format_instant(sharing.updated_at),
    }


class SharingCreateSerializer(StrictSerializer):
    assetIds = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=500, help_text="Ids from GET /assets."
    )
    recipient = serializers.EmailField(max_length=254, help_text="The e-mail of the person the sharing is for.")
    recipientOrganisationName = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Required when the recipient has no account yet (the sharing is then pending).",
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=255)
    startDate = InstantField(help_text="ISO 8601 with a time zone; at most one year in the past.")
    endDate = InstantField(required=False, allow_null=True, help_text="Empty or null: open-ended.")
    dataPacksCodes = serializers.ListField(
        child=serializers.ChoiceField(ALL_DATA_PACKS), required=False, min_length=1, help_text="Default: all."
    )
    properties = PropertiesField(required=False)
    notificationEnabled = serializers.BooleanField(required=False, default=True)
    onePerAsset = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: one sharing per asset, answered as a page {total, rows}. false: one sharing of all assets.",
    )


class SharingUpdateSerializer(StrictSerializer):
    startDate = InstantField(required=False, help_text="Only while the current start is in the future.")
    endDate = InstantField(required=False, allow_null=True, help_text="Only while the current end is empty or ahead.")
    reference = serializers.CharField(required=False, allow_blank=True, max_length=255)
    properties = PropertiesField(required=False, help_text="Replaces all the properties.")
    recipient = serializers.EmailField(required=False, max_length=254)
    recipientOrganisationName = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notificationEnabled = serializers.BooleanField(required=False)
    dataPacksCodes = serializers.ListField(
        child=serializers.ChoiceField(ALL_DATA_PACKS), required=False, min_length=1, help_text="Only before start."
    )


SHARING_UPDATE_FIELDS = {
    "startDate": "start_at",
    "endDate": "end_at",
    "reference": "reference",
    "properties": "properties",
    "recipient": "recipient_email",
    "recipientOrganisationName": "recipient_organisation_name",
    "notificationEnabled": "notification_enabled",
    "dataPacksCodes": "data_packs",
}

WarningsSerializer = inline_serializer(
    "SharingWarning",
    many=True,
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "sharingId": serializers.UUIDField(),
        "assetIds": serializers.ListField(child=serializers.UUIDField()),
    },
)
SharingResponse = inline_serializer("SharingResponse", {"data": SharingSerializer()})
SharingCreatedResponse = inline_serializer(
    "SharingCreatedResponse",
    {
        "data": serializers.JSONField(help_text="A Sharing, or {total, rows} of Sharings when onePerAsset is true."),
        "warnings": WarningsSerializer,
    },
)


def _sharing_rows(ids: list, now) -> list[dict]:
    """A page of the list, in the order of `ids`: the sharings with their organisations and contract in one query,
    their machines' ids in another (a prefetch made a queryset for each sharing, a quarter of the request)."""
    found = {sharing.pk: sharing for sharing in selectors.sharings_by_ids(ids)}
    machines = selectors.machine_ids_of_sharings(ids)
    return [sharing_data(found[pk], now=now, machine_ids=machines.get(pk, [])) for pk in ids if pk in found]


def _serialize_sharings(sharings, now) -> list[dict]:
    # many=True makes a list serializer, whose data is a list (the stubs type every serializer's data as a dict).
    return cast(list[dict], SharingSerializer(sharings, many=True, context={"now": now}).data)


def _overlap_warnings(*, organisation, machine_ids, start_at, end_at) -> list[dict]:
    """The organisation's open sharings that already share some of these machines over an overlapping period:
    allowed (a renter and a site operator), but reported so that a retry without an Idempotency-Key is noticed.
    One query (selectors.sharing_overlaps)."""
    overlaps: dict = {}
    for sharing_id, reference, machine_id in selectors.sharing_overlaps(
        organisation=organisation, machine_ids=machine_ids, start_at=start_at, end_at=end_at, limit=50
    ):
        overlaps.setdefault((sharing_id, reference), []).append(str(machine_id))
    return [
        {
            "code": "overlapping_sharing",
            "message": _("Already shared over an overlapping period in sharing %(id)s (reference “%(ref)s”).")
            % {"id": sharing_id, "ref": reference},
            "sharingId": str(sharing_id),
            "assetIds": sorted(shared),
        }
        for (sharing_id, reference), shared in overlaps.items()
    ]


# --- sharings --------------------------------------------------------------------------------------------------------

SHARING_LIST_PARAMETERS = [
    *page_parameters(default_limit=SHARINGS_DEFAULT_LIMIT, max_limit=SHARINGS_MAX_LIMIT),
    OpenApiParameter("reference", OpenApiTypes.STR, description="Exact reference, e.g. a contract number."),
    OpenApiParameter(
        "status",
        {"type": "array", "items": {"type": "string", "enum": SharingStatus.values}},
        description="One or more statuses (repeat the parameter).",
        explode=True,
    ),
    OpenApiParameter("assetId", OpenApiTypes.UUID, description="Sharings of this asset."),
    OpenApiParameter("recipient", OpenApiTypes.STR, description="Recipient e-mail (case-insensitive)."),
    OpenApiParameter(
        "direction",
        {"type": "string", "enum": Direction.values},
        description="outgoing: shared by your organisation; incoming: shared with it. Default: both.",
    ),
    OpenApiParameter(
        "contract", OpenApiTypes.STR, description="The sharings managed by this contract (its reference)."
    ),
    OpenApiParameter(
        "period",
        {"type": "string", "enum": Period.values},
        description=(
            "current: running now; upcoming: not started; past: ended or stopped; ending_soon: running or upcoming, "
            "and ending within your organisation's reminder days (7 unless its settings say otherwise)."
        ),
    ),
]


class SharingListView(ApiView):
    domain_field_names = SHARING_FIELD_NAMES

    @extend_schema(
        operation_id="sharings_list",
        tags=["sharings"],
        summary="List sharings",
        description="The sharings your organisation owns or receives, newest start first.",
        parameters=SHARING_LIST_PARAMETERS,
        responses=page_responses("Sharing", SharingSerializer, SHARING_EXAMPLE),
    )
    def get(self, request):
        params = request.query_params
        errors = {}
        if any(not UUID_PATTERN.fullmatch(value) for value in params.getlist("assetId")):
            errors["assetId"] = [_("Give an asset id (a UUID).")]
        for name in ("status", "direction"):
            if "" in params.getlist(name):
                errors[name] = [_("Give a value.")]
        if errors:
            raise serializers.ValidationError(errors)
        data = QueryDict(mutable=True)
        for api_name, filter_name in SHARING_FILTERS.items():
            if api_name in request.query_params:
                data.setlist(filter_name, request.query_params.getlist(api_name))
        filterset = SharingFilterSet(data, organisation=self.organisation)
        if not filterset.is_valid():
            names = {filter_name: api_name for api_name, filter_name in SHARING_FILTERS.items()}
            raise serializers.ValidationError(
                {names.get(name, camel_case(name)): errors for name, errors in filterset.errors.items()}
            )
        page = page_from(request, default_limit=SHARINGS_DEFAULT_LIMIT, max_limit=SHARINGS_MAX_LIMIT)
        now = timezone.now()
        if "direction" not in data:
            # Both directions: each through its own index, merged (selectors say why).
            sides = [filterset.side(direction) for direction in (Direction.OUTGOING, Direction.INCOMING)]
            total, ids = selectors.sharings_page_of_both_directions(*sides, offset=page.offset, limit=page.limit)
            return Response({"data": {"total": total, "rows": _sharing_rows(ids, now)}})
        ids = filterset.qs.values_list("pk", flat=True)
        return Response(page_body(ids, page, lambda rows: _sharing_rows(rows, now)))

    @extend_schema(
        operation_id="sharings_create",
        tags=["sharings"],
        summary="Create a sharing",
        description=(
            "Share assets with a recipient for a period. With `onePerAsset: false` (the default) one sharing carries "
            "all the assets and `data` is that Sharing; with `onePerAsset: true` there is one sharing per asset and "
            "`data` is `{total, rows}` like a list page, whatever the number of assets. `warnings` reports open "
            "sharings of the same assets over an overlapping period (allowed, never silently doubled). Send an "
            "Idempotency-Key so that a retry creates nothing new."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SharingCreateSerializer,
        responses={
            201: OpenApiResponse(SharingCreatedResponse, description="Created."),
            **api_schema.WRITE_ERRORS,
            409: api_schema.error_response(
                "The rules forbid it.",
                "resharing_forbidden",
                "Machines shared with your organisation can never be shared on.",
                {"assetIds": ["Machines shared with your organisation can never be shared on."]},
            ),
        },
        examples=[
            OpenApiExample(
                "One sharing per asset for a contract",
                request_only=True,
                value={
                    "assetIds": ["0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61"],
                    "recipient": "site.manager@buildco.example",
                    "recipientOrganisationName": "BuildCo",
                    "reference": "CONTRACT-2026-0042",
                    "startDate": "2026-08-01T08:00:00+02:00",
                    "endDate": "2026-08-31T20:00:00+02:00",
                    "dataPacksCodes": ["essential", "usage_hours"],
                    "properties": {"customer": "BuildCo", "site": "Lyon Part-Dieu"},
                    "notificationEnabled": True,
                    "onePerAsset": True,
                },
            ),
            OpenApiExample(
                "Created (onePerAsset: false)",
                response_only=True,
                status_codes=["201"],
                value={"data": SHARING_EXAMPLE, "warnings": []},
            ),
        ],
    )
    def post(self, request):
        return run_idempotently(self, request, lambda: self._create(request))

    def _create(self, request):
        serializer = SharingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        end_at = values.get("endDate")
        warnings = _overlap_warnings(
            organisation=self.organisation, machine_ids=values["assetIds"], start_at=values["startDate"], end_at=end_at
        )
        created = services.sharing_create(
            actor=self.actor,
            machine_ids=values["assetIds"],
            recipient_email=values["recipient"],
            recipient_organisation_name=values.get("recipientOrganisationName", ""),
            reference=values.get("reference", ""),
            properties=values.get("properties"),
            data_packs=values.get("dataPacksCodes"),
            notification_enabled=values["notificationEnabled"],
            start_at=values["startDate"],
            end_at=end_at,
            one_per_machine=values["onePerAsset"],
        )
        # The sharings just written, with their owner and beneficiary in hand: only their machines are read.
        prefetch_related_objects(created, "sharing_machines")
        rows = _serialize_sharings(created, timezone.now())
        data = {"total": len(rows), "rows": rows} if values["onePerAsset"] else rows[0]
        return Response({"data": data, "warnings": warnings}, status=status.HTTP_201_CREATED)


def _sharing_response(sharing, status_code=status.HTTP_200_OK) -> Response:
    return Response({"data": SharingSerializer(sharing, context={"now": timezone.now()}).data}, status=status_code)


class SharingDetailView(ApiView):
    domain_field_names = SHARING_FIELD_NAMES

    def _sharing(self, sharing_id):
        return selectors.sharing_get(organisation=self.organisation, sharing_id=sharing_id)

    @extend_schema(
        operation_id="sharings_retrieve",
        tags=["sharings"],
        summary="Get a sharing",
        responses={
            200: OpenApiResponse(
                SharingResponse, examples=[OpenApiExample("A sharing", value={"data": SHARING_EXAMPLE})]
            ),
            **api_schema.READ_ERRORS,
        },
    )
    def get(self, request, id):
        return _sharing_response(self._sharing(id))

    @extend_schema(
        operation_id="sharings_update",
        tags=["sharings"],
        summary="Change a sharing",
        description=(
            "Send only the fields to change. Dates change only while they are in the future, and only to future "
            "values; data packs only before the start; the recipient, once the beneficiary is known, only to another "
            "user of the same organisation. `assetIds` cannot change (409): stop or delete this sharing and create a "
            "new one."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SharingUpdateSerializer,
        responses={
            200: SharingResponse,
            **api_schema.WRITE_ERRORS,
            409: api_schema.error_response(
                "The rules forbid this change now.",
                "start_locked",
                "The start is in the past and can no longer be changed.",
                {"startDate": ["The start is in the past and can no longer be changed."]},
            ),
        },
        examples=[
            OpenApiExample("Extend the contract", request_only=True, value={"endDate": "2026-09-30T20:00:00+02:00"}),
        ],
    )
    def patch(self, request, id):
        return run_idempotently(self, request, lambda: self._update(request, id))

    def _update(self, request, sharing_id):
        sharing = self._sharing(sharing_id)
        if isinstance(request.data, dict) and "assetIds" in request.data:
            # The service refuses it, with the reason and what to do instead.
            services.sharing_update(
                actor=self.actor, sharing=sharing, changes={"machine_ids": request.data["assetIds"]}
            )
        serializer = SharingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = {SHARING_UPDATE_FIELDS[name]: value for name, value in serializer.validated_data.items()}
        return _sharing_response(services.sharing_update(actor=self.actor, sharing=sharing, changes=changes))

    @extend_schema(
        operation_id="sharings_delete",
        tags=["sharings"],
        summary="Delete a sharing",
        description="Only while nothing has been shared yet (pending, or scheduled). A started sharing is stopped.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **api_schema.WRITE_ERRORS,
            409: api_schema.error_response(
                "The sharing has started.",
                "sharing_started",
                "This sharing has started: stop it instead, so the beneficiary keeps the history of the shared period.",
            ),
        },
    )
    def delete(self, request, id):
        return run_idempotently(self, request, lambda: self._delete(id))

    def _delete(self, sharing_id):
        services.sharing_delete(actor=self.actor, sharing=self._sharing(sharing_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SharingStopView(ApiView):
    domain_field_names = SHARING_FIELD_NAMES

    @extend_schema(
        operation_id="sharings_stop",
        tags=["sharings"],
        summary="Stop a sharing now",
        description="Pending, scheduled or in progress. The beneficiary keeps the history up to now.",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: SharingResponse,
            **api_schema.WRITE_ERRORS,
            409: api_schema.error_response(
                "The sharing has already ended.", "sharing_ended", "This sharing has already ended (Stopped)."
            ),
        },
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._stop(id))

    def _stop(self, sharing_id):
        sharing = selectors.sharing_get(organisation=self.organisation, sharing_id=sharing_id)
        return _sharing_response(services.sharing_stop(actor=self.actor, sharing=sharing))


# --- extension requests ----------------------------------------------------------------------------------------------

EXTENSIONS_DEFAULT_LIMIT, EXTENSIONS_MAX_LIMIT = 50, 200
EXTENSION_FIELD_NAMES = {"end_at": "endDate", "message": "message"}


class ExtensionRequestSerializer(serializers.Serializer):
    """The schema of a request (rows are built by services.extension_view, plus the sharing as shown to you)."""

    id = serializers.UUIDField()
    sharingId = serializers.UUIDField()
    status = serializers.ChoiceField(ExtensionStatus.choices)
    endDate = InstantField(help_text="The end asked for.")
    previousEndDate = InstantField(help_text="The sharing's end when it was asked.")
    message = serializers.CharField(help_text="The beneficiary's words.")
    requestedBy = serializers.CharField(help_text="Who asked: a user's e-mail or an API key's name.")
    answer = serializers.CharField(help_text="The owner's words when it declined.")
    createdAt = InstantField()
    answeredAt = InstantField(allow_null=True)
    sharing = SharingSerializer(help_text="The sharing as the API shows it to you now.")


class ExtensionRequestCreateSerializer(StrictSerializer):
    endDate = InstantField(help_text="The end you need: later than the current one.")
    message = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ExtensionRequestDeclineSerializer(StrictSerializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=1000, help_text="Why, for them.")


EXTENSION_EXAMPLE = {
    "id": "0b6f3c2e-5d4a-4e1b-9c8d-7a6b5c4d3e2f",
    "sharingId": SHARING_EXAMPLE["id"],
    "status": "pending",
    "endDate": "2026-09-15T18:00:00Z",
    "previousEndDate": SHARING_EXAMPLE["endDate"],
    "message": "The site needs the excavator two more weeks.",
    "requestedBy": "site@buildco.example",
    "answer": "",
    "createdAt": "2026-08-24T07:40:00Z",
    "answeredAt": None,
    "sharing": SHARING_EXAMPLE,
}
ExtensionRequestResponse = inline_serializer("ExtensionRequestResponse", {"data": ExtensionRequestSerializer()})
EXTENSION_NOT_FOUND = api_schema.error_response(
    "Not found, or about a sharing your organisation neither owns nor receives.",
    "extension_request_not_found",
    "No such extension request.",
)
EXTENSION_ANSWERED = api_schema.error_response(
    "The request was answered already, or the sharing's rules refuse the new end now (it has ended, say).",
    "extension_answered",
    "This request was already answered (Approved).",
)


def _extension_response(extension, organisation, status_code=status.HTTP_200_OK) -> Response:
    return Response({"data": _extension_rows([extension], organisation)[0]}, status=status_code)


def _extension_rows(extensions, organisation) -> list[dict]:
    now = timezone.now()
    return [
        {
            **services.extension_view(extension),
            "sharing": SharingSerializer(
                extension.sharing, context={"now": now, "organisation_id": organisation.pk}
            ).data,
        }
        for extension in extensions
    ]


class SharingExtensionRequestsView(ApiView):
    domain_field_names = EXTENSION_FIELD_NAMES

    @extend_schema(
        operation_id="sharings_extension_requests_create",
        tags=["extension requests"],
        summary="Ask for a later end",
        description=(
            "For a sharing your organisation receives, with an end date. The owner's admins are told and answer. "
            "While a request is pending, asking again answers that one (200) instead of a new one (201)."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ExtensionRequestCreateSerializer,
        responses={
            201: ExtensionRequestResponse,
            200: OpenApiResponse(ExtensionRequestResponse, description="A request was pending already: that one."),
            **api_schema.WRITE_ERRORS,
            409: api_schema.error_response(
                "The sharing has no end, or has ended.",
                "no_end",
                "This sharing has no end date: there is nothing to extend.",
            ),
        },
        examples=[
            OpenApiExample(
                "Two more weeks",
                request_only=True,
                value={
                    "endDate": "2026-09-15T20:00:00+02:00",
                    "message": "The site needs the excavator two more weeks.",
                },
            )
        ],
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._ask(request, id))

    def _ask(self, request, sharing_id):
        sharing = selectors.sharing_get(organisation=self.organisation, sharing_id=sharing_id)
        serializer = ExtensionRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        extension, created = services.extension_request_create(
            actor=self.actor, sharing=sharing, end_at=values["endDate"], message=values.get("message", "")
        )
        return _extension_response(
            extension, self.organisation, status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ExtensionRequestListView(ApiView):
    @extend_schema(
        operation_id="extension_requests_list",
        tags=["extension requests"],
        summary="List extension requests",
        description="About the sharings your organisation owns (to answer) or receives (asked), newest first.",
        parameters=[
            *page_parameters(default_limit=EXTENSIONS_DEFAULT_LIMIT, max_limit=EXTENSIONS_MAX_LIMIT),
            OpenApiParameter("status", {"type": "string", "enum": ExtensionStatus.values}),
            OpenApiParameter(
                "direction",
                {"type": "string", "enum": Direction.values},
                description="outgoing: about sharings you own; incoming: about sharings you receive. Default: both.",
            ),
            OpenApiParameter("sharingId", OpenApiTypes.UUID, description="About this sharing."),
        ],
        responses=page_responses("ExtensionRequest", ExtensionRequestSerializer, EXTENSION_EXAMPLE),
    )
    def get(self, request):
        params = request.query_params
        extensions = selectors.extension_requests_visible_to(self.organisation)
        errors = {}
        if (wanted := params.get("status")) is not None:
            if wanted not in ExtensionStatus.values:
                errors["status"] = [_("Give one of: %s.") % ", ".join(ExtensionStatus.values)]
            extensions = extensions.filter(status=wanted)
        if (direction := params.get("direction")) is not None:
            if direction not in Direction.values:
                errors["direction"] = [_("Give one of: %s.") % ", ".join(Direction.values)]
            side = "sharing__owner" if direction == Direction.OUTGOING else "sharing__beneficiary"
            extensions = extensions.filter(**{side: self.organisation})
        if (sharing_id := params.get("sharingId")) is not None:
            if not UUID_PATTERN.fullmatch(sharing_id):
                errors["sharingId"] = [_("Give a sharing id (a UUID).")]
            else:
                extensions = extensions.filter(sharing_id=sharing_id)
        if errors:
            raise serializers.ValidationError(errors)
        page = page_from(request, default_limit=EXTENSIONS_DEFAULT_LIMIT, max_limit=EXTENSIONS_MAX_LIMIT)
        extensions = extensions.prefetch_related("sharing__sharing_machines").order_by("-created_at", "pk")
        return Response(page_body(extensions, page, lambda rows: _extension_rows(rows, self.organisation)))


class ExtensionRequestApproveView(ApiView):
    domain_field_names = EXTENSION_FIELD_NAMES

    @extend_schema(
        operation_id="extension_requests_approve",
        tags=["extension requests"],
        summary="Approve an extension request",
        description=(
            "Admins of the sharing's owner. The sharing's end moves to the date asked for, through the same rules as "
            "PATCH /sharings/{id}: a request that became impossible (the sharing stopped or ended) answers 409 with "
            "the reason, and stays pending. The beneficiary is told."
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: ExtensionRequestResponse,
            **api_schema.WRITE_ERRORS,
            404: EXTENSION_NOT_FOUND,
            409: EXTENSION_ANSWERED,
        },
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._approve(id))

    def _approve(self, extension_id):
        extension = selectors.extension_request_get(organisation=self.organisation, extension_id=extension_id)
        extension = services.extension_request_approve(actor=self.actor, extension=extension)
        return _extension_response(extension, self.organisation)


class ExtensionRequestDeclineView(ApiView):
    domain_field_names = EXTENSION_FIELD_NAMES

    @extend_schema(
        operation_id="extension_requests_decline",
        tags=["extension requests"],
        summary="Decline an extension request",
        description="Admins of the sharing's owner, with a message for the beneficiary, who is told.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ExtensionRequestDeclineSerializer,
        responses={
            200: ExtensionRequestResponse,
            **api_schema.WRITE_ERRORS,
            404: EXTENSION_NOT_FOUND,
            409: EXTENSION_ANSWERED,
        },
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._decline(request, id))

    def _decline(self, request, extension_id):
        extension = selectors.extension_request_get(organisation=self.organisation, extension_id=extension_id)
        serializer = ExtensionRequestDeclineSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        extension = services.extension_request_decline(
            actor=self.actor, extension=extension, message=serializer.validated_data.get("message", "")
        )
        return _extension_response(extension, self.organisation)


# --- received assets -------------------------------------------------------------------------------------------------


class ReceivedAssetSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="machine_id", help_text="The asset id, as in assetIds and /assets/{id}/readings.")
    name = serializers.CharField(help_text="Your organisation's name for it.")
    make = serializers.CharField(source="machine.make")
    model = serializers.CharField(source="machine.model")
    serialNumber = serializers.CharField(source="machine.serial_number")
    category = serializers.CharField(source="machine.category")
    year = serializers.IntegerField(source="machine.year", allow_null=True)
    owner = OrganisationReferenceSerializer(source="machine.organisation")
    workspaces = WorkspaceReferenceSerializer(many=True, source="workspaces.all")
    receivedAt = InstantField(source="created_at")


class ReceivedAssetUpdateSerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200)
    workspaces = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=200, help_text="Ids from GET /workspaces; replaces."
    )


ReceivedAssetResponse = inline_serializer("ReceivedAssetResponse", {"data": ReceivedAssetSerializer()})
RECEIVED_ASSET_EXAMPLE = {
    "id": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
    "name": "Excavator 12 – Part-Dieu",
    "make": "Caterpillar",
    "model": "320 GC",
    "serialNumber": "CAT0320GCXYZ01234",
    "category": "excavator",
    "year": 2022,
    "owner": {"id": "c7d2f4a9-1e3b-4f6a-8d0c-5b9e2a1f3c77", "name": "Rent & Go"},
    "workspaces": [{"id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "name": "Lyon"}],
    "receivedAt": "2026-07-12T09:30:00Z",
}


def _received_assets(organisation):
    return (
        selectors.received_machines_of(organisation)
        .select_related("machine__organisation")
        .prefetch_related("workspaces")
        .order_by("name", "pk")
    )


class ReceivedAssetListView(ApiView):
    @extend_schema(
        operation_id="received_assets_list",
        tags=["received assets"],
        summary="List received assets",
        description="Assets other organisations share (or shared) with yours. They can never be shared on.",
        parameters=page_parameters(default_limit=ASSETS_DEFAULT_LIMIT, max_limit=ASSETS_MAX_LIMIT),
        responses=page_responses("ReceivedAsset", ReceivedAssetSerializer, RECEIVED_ASSET_EXAMPLE),
    )
    def get(self, request):
        page = page_from(request, default_limit=ASSETS_DEFAULT_LIMIT, max_limit=ASSETS_MAX_LIMIT)
        queryset = _received_assets(self.organisation)
        return Response(page_body(queryset, page, lambda rows: ReceivedAssetSerializer(rows, many=True).data))


class ReceivedAssetDetailView(ApiView):
    def _received_asset(self, asset_id):
        received = _received_assets(self.organisation).filter(machine_id=asset_id).first()
        if received is None:
            raise NotFound("received_machine_not_found", _("No such machine."))
        return received

    @extend_schema(
        operation_id="received_assets_retrieve",
        tags=["received assets"],
        summary="Get a received asset",
        responses={
            200: OpenApiResponse(
                ReceivedAssetResponse, examples=[OpenApiExample("One", value={"data": RECEIVED_ASSET_EXAMPLE})]
            ),
            **api_schema.READ_ERRORS,
        },
    )
    def get(self, request, id):
        return Response({"data": ReceivedAssetSerializer(self._received_asset(id)).data})

    @extend_schema(
        operation_id="received_assets_update",
        tags=["received assets"],
        summary="Rename a received asset or place it in workspaces",
        description="Only your organisation sees these; the owner never does.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ReceivedAssetUpdateSerializer,
        responses={200: ReceivedAssetResponse, **api_schema.WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Rename and group",
                request_only=True,
                value={"name": "Excavator 12 – Part-Dieu", "workspaces": ["9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"]},
            )
        ],
    )
    def patch(self, request, id):
        return run_idempotently(self, request, lambda: self._update(request, id))

    def _update(self, request, asset_id):
        received = self._received_asset(asset_id)
        serializer = ReceivedAssetUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        workspaces = None
        if "workspaces" in values:
            wanted = set(values["workspaces"])
            workspaces = list(workspaces_of(self.organisation).filter(pk__in=wanted))
            unknown = wanted - {workspace.pk for workspace in workspaces}
            if unknown:
                raise InvalidInput(
                    "unknown_workspace",
                    _("Unknown workspace: %s.") % ", ".join(sorted(str(pk) for pk in unknown)),
                    field="workspaces",
                )
        services.received_machine_update(
            actor=self.actor, received_machine=received, name=values.get("name"), workspaces=workspaces
        )
        return Response({"data": ReceivedAssetSerializer(self._received_asset(asset_id)).data})


# --- readings --------------------------------------------------------------------------------------------------------


class ReadingSerializer(serializers.Serializer):
    metric = serializers.CharField()
    timestamp = InstantField()
    value = serializers.FloatField()
    unit = serializers.SerializerMethodField()

    def get_unit(self, reading) -> str:
        info = METRICS.get(reading.metric)
        return info.unit if info else ""


class AssetReadingsView(ApiView):
    @extend_schema(
        operation_id="assets_readings",
        tags=["assets"],
        summary="Readings of an asset",
        description=(
            "Numeric readings, oldest first. For your own assets, everything; for received assets, only what their "
            "sharings grant: readings inside each sharing's period, of that sharing's data packs."
        ),
        parameters=[
            OpenApiParameter(
                "metric",
                {"type": "string", "maxLength": 40},
                description="One metric, e.g. " + ", ".join(list(METRICS)[:4]) + ". Default: all.",
            ),
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME, description="From this instant, included (ISO 8601 with a time zone)."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATETIME, description="Until this instant, excluded (ISO 8601 with a time zone)."
            ),
            *page_parameters(default_limit=READINGS_DEFAULT_LIMIT, max_limit=READINGS_MAX_LIMIT),
        ],
        responses={
            200: OpenApiResponse(
                page_envelope("Reading", ReadingSerializer),
                examples=[
                    OpenApiExample(
                        "A page",
                        value={
                            "data": {
                                "total": 1,
                                "rows": [
                                    {
                                        "metric": "operating_hours",
                                        "timestamp": "2026-08-02T10:00:00Z",
                                        "value": 1234.5,
                                        "unit": "h",
                                    }
                                ],
                            }
                        },
                    )
                ],
            ),
            **api_schema.READ_ERRORS,
        },
    )
    def get(self, request, id):
        machine = fleet_selectors.machine_get(organisation=self.organisation, machine_id=id)
        params = request.query_params
        errors, bounds = {}, {}
        for name in ("from", "to"):
            if name in params:
                try:
                    bounds[name] = parse_instant(params[name])
                except ValueError as error:
                    errors[name] = [str(error)]
        metric = params.get("metric") or None
        if metric is not None and (len(metric) > 40 or "\x00" in metric):
            errors["metric"] = [_("Unknown metric.")]
        if errors:
            raise serializers.ValidationError(errors)
        page = page_from(request, default_limit=READINGS_DEFAULT_LIMIT, max_limit=READINGS_MAX_LIMIT)
        readings = fleet_selectors.readings_visible_to(
            organisation=self.organisation,
            machine=machine,
            metrics=[metric] if metric else None,
            since=bounds.get("from"),
            until=bounds.get("to"),
        ).order_by("timestamp", "metric")
        return Response(page_body(readings.values_list("metric", "timestamp", "value"), page, _reading_rows))


def _reading_rows(rows) -> list[dict]:
    """ReadingSerializer's output built directly from value tuples: a page holds up to thousands of readings, and a
    serializer field per value per row cost more than the query (the schema still documents ReadingSerializer)."""
    units = {metric: info.unit for metric, info in METRICS.items()}
    return [
        {"metric": metric, "timestamp": format_instant(timestamp), "value": value, "unit": units.get(metric, "")}
        for metric, timestamp, value in rows
    ]
