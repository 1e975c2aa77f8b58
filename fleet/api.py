"""The public API of the organisation's own assets (DESIGN §6): the ids to use in a sharing's assetIds; its
workspaces, the ids to place received assets in; and the readings its own systems push (DESIGN §8)."""

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api import ApiView
from accounts.idempotency import IDEMPOTENCY_PARAMETER, run_idempotently
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.errors import ApiError
from hiboo_connect.api.fields import InstantField
from hiboo_connect.api.pagination import page_body, page_from, page_parameters, page_responses

from .data_packs import Metric
from .models import FaultSeverity, MachineCategory
from .selectors import machines_owned_by, workspaces_of
from .services import MAX_INGEST_ITEMS, telemetry_ingest

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class WorkspaceReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class AssetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    make = serializers.CharField()
    model = serializers.CharField()
    serialNumber = serializers.CharField(source="serial_number")
    category = serializers.ChoiceField(MachineCategory.choices)
    year = serializers.IntegerField(allow_null=True)
    pin = serializers.CharField(help_text="PIN / VIN; may be empty.")
    workspaces = WorkspaceReferenceSerializer(many=True, source="workspaces.all")
    createdAt = InstantField(source="created_at")


ASSET_EXAMPLE = {
    "id": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
    "make": "Caterpillar",
    "model": "320 GC",
    "serialNumber": "CAT0320GCXYZ01234",
    "category": "excavator",
    "year": 2022,
    "pin": "",
    "workspaces": [{"id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "name": "Lyon depot"}],
    "createdAt": "2026-01-05T08:00:00Z",
}


class AssetListView(ApiView):
    @extend_schema(
        operation_id="assets_list",
        tags=["assets"],
        summary="List your assets",
        description="Your organisation's own machines: the ids to put in assetIds. Received assets are not here.",
        parameters=page_parameters(default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT),
        responses=page_responses("Asset", AssetSerializer, ASSET_EXAMPLE),
    )
    def get(self, request):
        page = page_from(request, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
        machines = (
            machines_owned_by(self.organisation)
            .prefetch_related("workspaces")
            .order_by("make", "model", "serial_number", "pk")
        )
        return Response(page_body(machines, page, lambda rows: AssetSerializer(rows, many=True).data))


WORKSPACES_DEFAULT_LIMIT, WORKSPACES_MAX_LIMIT = 100, 500


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class WorkspaceListView(ApiView):
    @extend_schema(
        operation_id="workspaces_list",
        tags=["workspaces"],
        summary="List your workspaces",
        description="Your organisation's workspaces (sites, depots, regions), to group received assets.",
        parameters=page_parameters(default_limit=WORKSPACES_DEFAULT_LIMIT, max_limit=WORKSPACES_MAX_LIMIT),
        responses=page_responses("Workspace", WorkspaceSerializer),
    )
    def get(self, request):
        page = page_from(request, default_limit=WORKSPACES_DEFAULT_LIMIT, max_limit=WORKSPACES_MAX_LIMIT)
        workspaces = workspaces_of(self.organisation).order_by("name", "pk")
        return Response(page_body(workspaces, page, lambda rows: WorkspaceSerializer(rows, many=True).data))


# --- pushed readings -------------------------------------------------------------------------------------------------

#: A push of MAX_INGEST_ITEMS fault codes with the longest texts stays below this; Django reads a body whole up to
#: settings.DATA_UPLOAD_MAX_MEMORY_SIZE, set to the same bound.
MAX_READINGS_BODY = 16 * 1024 * 1024

PUSHED_READING_FIELDS: dict[str, serializers.Field] = {
    "assetId": serializers.UUIDField(required=False, help_text="The asset's id; or give make and serialNumber."),
    "make": serializers.CharField(required=False, max_length=80, help_text="With serialNumber, instead of assetId."),
    "serialNumber": serializers.CharField(required=False, max_length=80),
    "metric": serializers.ChoiceField(
        [*Metric.values, "position", "fault"],
        help_text="A metric of GET /assets/{id}/readings, or position, or fault.",
    ),
    "timestamp": serializers.DateTimeField(
        help_text="ISO 8601 with a time zone, between 1970 and 2099, at most a day in the future."
    ),
    "value": serializers.FloatField(required=False, help_text="Numeric metrics: the value (finite)."),
    "latitude": serializers.FloatField(required=False, min_value=-90, max_value=90, help_text="position"),
    "longitude": serializers.FloatField(required=False, min_value=-180, max_value=180, help_text="position"),
    "altitude": serializers.FloatField(required=False, allow_null=True, help_text="position, in metres"),
    "code": serializers.CharField(required=False, max_length=40, help_text="fault: SAE J1939 SPN-FMI, e.g. 110-0"),
    "description": serializers.CharField(required=False, max_length=255, help_text="fault"),
    "severity": serializers.ChoiceField(FaultSeverity.values, required=False, help_text="fault"),
    "source": serializers.CharField(required=False, max_length=80, help_text="fault: the part that raised it"),
}
PUSH_REQUEST = inline_serializer(
    "ReadingsPush", {"readings": inline_serializer("PushedReading", PUSHED_READING_FIELDS, many=True)}
)
PUSH_RESPONSE = inline_serializer(
    "ReadingsPushed",
    {
        "data": inline_serializer(
            "ReadingsPushedData",
            {
                "stored": serializers.IntegerField(help_text="New rows stored."),
                "duplicates": serializers.IntegerField(help_text="Already stored (same machine, metric, timestamp)."),
                "rejected": serializers.IntegerField(help_text="Items refused; see errors."),
                "errors": inline_serializer(
                    "ReadingError",
                    {
                        "index": serializers.IntegerField(help_text="The item's position in readings, from 0."),
                        "code": serializers.CharField(),
                        "message": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        )
    },
)
PUSH_EXAMPLE = {
    "readings": [
        {
            "assetId": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
            "metric": "operating_hours",
            "timestamp": "2026-07-12T08:00:00Z",
            "value": 1234.5,
        },
        {
            "make": "Caterpillar",
            "serialNumber": "CAT0320GCXYZ01234",
            "metric": "position",
            "timestamp": "2026-07-12T08:00:00Z",
            "latitude": 45.76,
            "longitude": 4.84,
            "altitude": 170,
        },
        {
            "assetId": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
            "metric": "fault",
            "timestamp": "2026-07-12T08:05:00+02:00",
            "code": "110-0",
            "description": "Engine coolant temperature high",
            "severity": "high",
            "source": "Engine",
        },
    ]
}


def _too_large(message: str) -> ApiError:
    return ApiError(status_code=413, code="too_many_readings", message=message)


class ReadingsPushView(ApiView):
    @extend_schema(
        operation_id="readings_push",
        tags=["telemetry"],
        summary="Push readings",
        description=(
            f"Store readings, positions and fault codes of your own assets, up to {MAX_INGEST_ITEMS:,} per call (more: "
            "413, nothing stored). Readings already stored (same asset, metric and timestamp) are counted as "
            "duplicates and left as they are, so a batch can be sent again safely. Each refused item is reported with "
            "its index and the others are stored. Late readings are normal: one timed inside a beneficiary's sharing "
            "becomes visible to it, even after the sharing has ended. Admin keys only."
        ),
        request=PUSH_REQUEST,
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Three kinds of reading", value=PUSH_EXAMPLE, request_only=True)],
        responses={
            200: OpenApiResponse(
                PUSH_RESPONSE,
                examples=[
                    OpenApiExample(
                        "Stored",
                        value={
                            "data": {
                                "stored": 2,
                                "duplicates": 0,
                                "rejected": 1,
                                "errors": [
                                    {
                                        "index": 2,
                                        "code": "unknown_machine",
                                        "message": "No machine of your organisation has this id or serial number.",
                                    }
                                ],
                            }
                        },
                    )
                ],
            ),
            413: api_schema.error_response(
                "More readings than one call may carry; nothing was stored.",
                "too_many_readings",
                f"Send at most {MAX_INGEST_ITEMS} readings at once.",
            ),
            **api_schema.WRITE_ERRORS,
        },
    )
    def post(self, request):
        try:
            return run_idempotently(self, request, lambda: self._push(request))
        except RequestDataTooBig:
            # A body past Django's bound (settings.DATA_UPLOAD_MAX_MEMORY_SIZE), read whole by the Idempotency-Key's
            # fingerprint before _push could look at its length.
            raise _too_large(
                _("The body is too large (%(limit)d MB at most).") % {"limit": MAX_READINGS_BODY >> 20}
            ) from None

    def _push(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_READINGS_BODY:
            raise _too_large(_("The body is too large (%(limit)d MB at most).") % {"limit": MAX_READINGS_BODY >> 20})
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("readings"), list):
            raise serializers.ValidationError({"readings": [_("Send the readings as a list.")]})
        unknown = sorted(str(name) for name in body if name != "readings")
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        if len(body["readings"]) > MAX_INGEST_ITEMS:
            raise _too_large(_("Send at most %(limit)d readings at once.") % {"limit": MAX_INGEST_ITEMS})
        report = telemetry_ingest(actor=self.actor, organisation=self.organisation, items=body["readings"])
        return Response(
            {
                "data": {
                    "stored": report.stored,
                    "duplicates": report.duplicates,
                    "rejected": report.rejected,
                    "errors": [
                        {"index": error.index, "code": error.code, "message": error.message} for error in report.errors
                    ],
                }
            }
        )
