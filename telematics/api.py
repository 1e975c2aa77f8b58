"""The public API of telematics sources (DESIGN §8): list, create, read, change, delete, and poll now. Admin keys
write; viewer keys read. Secrets are write-only: a source answers whether one is set, never its value."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.api import ApiView
from accounts.idempotency import IDEMPOTENCY_PARAMETER, run_idempotently
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.fields import format_instant
from hiboo_connect.api.pagination import page_body, page_from, page_parameters, page_responses
from hiboo_connect.api.serializers import StrictSerializer

from . import selectors, services
from .models import POLL_MINUTES_MAX, POLL_MINUTES_MIN, AuthType, TelematicsRun, TelematicsSource

DEFAULT_LIMIT, MAX_LIMIT = 50, 200

SOURCE_FIELD_NAMES = {
    "base_url": "baseUrl",
    "poll_minutes": "pollMinutes",
    "create_machines": "createMachines",
    "auth_type": "auth.type",
    "username": "auth.username",
    "token_url": "auth.tokenUrl",
    "client_id": "auth.clientId",
    "header_name": "auth.name",
    "secret": "auth",
}

#: The fields of `auth` each type takes, API name → SourceAuth field; the secret is write-only.
AUTH_FIELDS = {
    AuthType.BASIC: {"username": "username", "password": "secret"},
    AuthType.OAUTH2: {"tokenUrl": "token_url", "clientId": "client_id", "clientSecret": "secret"},
    AuthType.HEADER: {"name": "header_name", "value": "secret"},
}
SECRET_NAMES = {AuthType.BASIC: "password", AuthType.OAUTH2: "clientSecret", AuthType.HEADER: "value"}

RUN_EXAMPLE = {
    "id": "6d1f0b2e-8c4a-4f3e-9b7d-2a5c1e0f9d83",
    "requestedAt": "2026-07-12T09:00:00Z",
    "startedAt": "2026-07-12T09:00:01Z",
    "finishedAt": "2026-07-12T09:00:07Z",
    "durationSeconds": 6.0,
    "machines": {"seen": 3, "matched": 2, "created": 0},
    "readings": {"seen": 16, "stored": 14},
    "stored": 14,
    "error": "",
}
SOURCE_EXAMPLE = {
    "id": "0f3b7c2d-1a4e-4b6f-9c8d-7e5a3b2c1d0e",
    "name": "VisionLink",
    "baseUrl": "https://services.cat.com/aemp/v2",
    "auth": {
        "type": "oauth2",
        "tokenUrl": "https://fedlogin.cat.com/as/token.oauth2",
        "clientId": "rentandgo_cc_client",
        "clientSecretSet": True,
    },
    "pollMinutes": 60,
    "createMachines": False,
    "nextPollAt": "2026-07-12T10:00:07Z",
    "failures": 0,
    "createdAt": "2026-07-01T08:00:00Z",
    "updatedAt": "2026-07-01T08:00:00Z",
    "lastRun": RUN_EXAMPLE,
}


# --- answers ---------------------------------------------------------------------------------------------------------


def run_json(run: TelematicsRun | None) -> dict | None:
    if run is None:
        return None
    duration = run.duration
    return {
        "id": str(run.pk),
        "requestedAt": format_instant(run.requested_at),
        "startedAt": format_instant(run.started_at),
        "finishedAt": format_instant(run.finished_at),
        "durationSeconds": duration.total_seconds() if duration is not None else None,
        "machines": {"seen": run.machines_seen, "matched": run.machines_matched, "created": run.machines_created},
        "readings": {"seen": run.readings_seen, "stored": run.readings_stored},
        "stored": run.readings_stored,
        "error": run.error,
    }


def _auth_json(source: TelematicsSource) -> dict[str, Any]:
    auth: dict[str, Any] = {"type": source.auth_type}
    if source.auth_type == AuthType.BASIC:
        auth["username"] = source.username
    elif source.auth_type == AuthType.OAUTH2:
        auth |= {"tokenUrl": source.token_url, "clientId": source.client_id}
    else:
        auth["name"] = source.header_name
    auth[f"{SECRET_NAMES[AuthType(source.auth_type)]}Set"] = bool(source.secret)
    return auth


def source_json(source: TelematicsSource) -> dict:
    return {
        "id": str(source.pk),
        "name": source.name,
        "baseUrl": source.base_url,
        "auth": _auth_json(source),
        "pollMinutes": source.poll_minutes,
        "createMachines": source.create_machines,
        "nextPollAt": format_instant(source.next_poll_at),
        "failures": source.failures,
        "createdAt": format_instant(source.created_at),
        "updatedAt": format_instant(source.updated_at),
        "lastRun": run_json(getattr(source, "last_run", None)),
    }


# --- the schema's view of those answers -----------------------------------------------------------------------------


class RunMachinesSerializer(serializers.Serializer):
    seen = serializers.IntegerField()
    matched = serializers.IntegerField(help_text="Found in your fleet by OEM name and serial number, or PIN.")
    created = serializers.IntegerField()


class RunReadingsSerializer(serializers.Serializer):
    seen = serializers.IntegerField()
    stored = serializers.IntegerField(help_text="New ones; those already stored are not counted.")


class RunSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    requestedAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True, help_text="null while queued.")
    finishedAt = serializers.DateTimeField(allow_null=True, help_text="null while queued or under way.")
    durationSeconds = serializers.FloatField(allow_null=True)
    machines = RunMachinesSerializer()
    readings = RunReadingsSerializer(help_text="Readings, positions and fault codes.")
    stored = serializers.IntegerField(help_text="Readings, positions and fault codes stored (new ones only).")
    error = serializers.CharField(
        allow_blank=True, help_text="Why the run stopped, or what it left out (one problem a line); empty if none."
    )


class TelematicsSourceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    baseUrl = serializers.URLField()
    auth = serializers.JSONField(
        help_text="{type: basic, username, passwordSet} | {type: oauth2, tokenUrl, clientId, clientSecretSet} | "
        "{type: header, name, valueSet}: whether the secret is set, never the secret."
    )
    pollMinutes = serializers.IntegerField()
    createMachines = serializers.BooleanField()
    nextPollAt = serializers.DateTimeField()
    failures = serializers.IntegerField(help_text="Failed polls in a row; each doubles the wait, up to a day.")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    lastRun = RunSerializer(allow_null=True)


SourceResponse = inline_serializer("TelematicsSourceResponse", {"data": TelematicsSourceSerializer()})
RunResponse = inline_serializer("TelematicsRunResponse", {"data": RunSerializer()})


# --- requests --------------------------------------------------------------------------------------------------------


class AuthField(serializers.JSONField):
    """`auth` of a request: the type and that type's fields only; the secret may be left out on a change that keeps
    the type (the stored one is kept)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Give an object with a type."))
        kind = data.get("type")
        if kind not in AuthType.values:
            raise serializers.ValidationError({"type": [_("Choose basic, oauth2 or header.")]})
        fields = AUTH_FIELDS[AuthType(kind)]
        errors = {}
        for name, value in data.items():
            if name == "type":
                continue
            if name not in fields:
                errors[name] = [_("Unknown field for this type.")]
            elif not isinstance(value, str):
                errors[name] = [_("Must be a text.")]
        if errors:
            raise serializers.ValidationError(errors)
        values = {fields[name]: value for name, value in data.items() if name != "type"}
        return services.SourceAuth(type=kind, **values)


class WholeNumberField(serializers.IntegerField):
    """A JSON number without a fraction: "60" or true are refused, not coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError(_("Must be a whole number."))
        return super().to_internal_value(data)


AUTH_HELP = (
    'One of {"type": "basic", "username", "password"}, {"type": "oauth2", "tokenUrl", "clientId", "clientSecret"} '
    '(client credentials; the client authenticates with HTTP Basic), {"type": "header", "name", "value"}. On a change '
    "that keeps the type, the secret may be left out: the stored one is kept."
)


class SourceCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    baseUrl = serializers.CharField(
        max_length=500, help_text="The feed's root: the URL before /Fleet/1, e.g. https://oem.example/aemp/v2."
    )
    auth = AuthField(help_text=AUTH_HELP)
    pollMinutes = WholeNumberField(required=False, default=60, min_value=POLL_MINUTES_MIN, max_value=POLL_MINUTES_MAX)
    createMachines = serializers.BooleanField(
        required=False, default=False, help_text="Create machines the feed lists that your fleet does not have."
    )


class SourceUpdateSerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=120)
    baseUrl = serializers.CharField(required=False, max_length=500)
    auth = AuthField(required=False, help_text=AUTH_HELP)
    pollMinutes = WholeNumberField(required=False, min_value=POLL_MINUTES_MIN, max_value=POLL_MINUTES_MAX)
    createMachines = serializers.BooleanField(required=False)


UPDATE_FIELDS = {
    "name": "name",
    "baseUrl": "base_url",
    "auth": "auth",
    "pollMinutes": "poll_minutes",
    "createMachines": "create_machines",
}
NOT_FOUND = api_schema.error_response(
    "Not found, or not visible to your organisation.", "telematics_source_not_found", "No such telematics source."
)
READ_ERRORS = {**api_schema.READ_ERRORS, 404: NOT_FOUND}
WRITE_ERRORS = {**api_schema.WRITE_ERRORS, 404: NOT_FOUND}
CREATE_EXAMPLE = {
    "name": "VisionLink",
    "baseUrl": "https://services.cat.com/aemp/v2",
    "auth": {
        "type": "oauth2",
        "tokenUrl": "https://fedlogin.cat.com/as/token.oauth2",
        "clientId": "rentandgo_cc_client",
        "clientSecret": "…",
    },
    "pollMinutes": 60,
    "createMachines": False,
}


def _one(source: TelematicsSource, status_code=status.HTTP_200_OK) -> Response:
    (source,) = selectors.attach_last_runs(
        selectors.with_last_run(selectors.sources_of(source.organisation)).filter(pk=source.pk)
    )
    return Response({"data": source_json(source)}, status=status_code)


class TelematicsSourceListView(ApiView):
    domain_field_names = SOURCE_FIELD_NAMES

    @extend_schema(
        operation_id="telematics_sources_list",
        tags=["telematics sources"],
        summary="List telematics sources",
        description="Your organisation's OEM feeds (ISO 15143-3), by name, each with its last run.",
        parameters=page_parameters(default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT),
        responses=page_responses("TelematicsSource", TelematicsSourceSerializer, SOURCE_EXAMPLE, errors=READ_ERRORS),
    )
    def get(self, request):
        page = page_from(request, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
        sources = selectors.with_last_run(selectors.sources_of(self.organisation)).order_by("name", "pk")
        return Response(
            page_body(sources, page, lambda rows: [source_json(source) for source in selectors.attach_last_runs(rows)])
        )

    @extend_schema(
        operation_id="telematics_sources_create",
        tags=["telematics sources"],
        summary="Register a telematics source",
        description=(
            "An OEM feed speaking ISO 15143-3 (AEMP 2.0). Its first poll is due at once; then every `pollMinutes`. "
            "The address must be public unless this deployment allows private ones. Admin keys only."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SourceCreateSerializer,
        responses={201: SourceResponse, **WRITE_ERRORS},
        examples=[
            OpenApiExample("A Caterpillar feed", request_only=True, value=CREATE_EXAMPLE),
            OpenApiExample(
                "Created", response_only=True, status_codes=["201"], value={"data": SOURCE_EXAMPLE | {"lastRun": None}}
            ),
        ],
    )
    def post(self, request):
        return run_idempotently(self, request, lambda: self._create(request))

    def _create(self, request):
        serializer = SourceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        source = services.telematics_source_create(
            actor=self.actor,
            name=values["name"],
            base_url=values["baseUrl"],
            auth=values["auth"],
            poll_minutes=values["pollMinutes"],
            create_machines=values["createMachines"],
        )
        return _one(source, status.HTTP_201_CREATED)


class TelematicsSourceDetailView(ApiView):
    domain_field_names = SOURCE_FIELD_NAMES

    def _source(self, source_id) -> TelematicsSource:
        return selectors.source_get(organisation=self.organisation, source_id=source_id)

    @extend_schema(
        operation_id="telematics_sources_retrieve",
        tags=["telematics sources"],
        summary="Get a telematics source",
        responses={
            200: OpenApiResponse(SourceResponse, examples=[OpenApiExample("A source", value={"data": SOURCE_EXAMPLE})]),
            **READ_ERRORS,
        },
    )
    def get(self, request, id):
        return _one(self._source(id))

    @extend_schema(
        operation_id="telematics_sources_update",
        tags=["telematics sources"],
        summary="Change a telematics source",
        description="Send only the fields to change. Changing other fields keeps the stored secret.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SourceUpdateSerializer,
        responses={200: SourceResponse, **WRITE_ERRORS},
        examples=[OpenApiExample("Poll every 30 minutes", request_only=True, value={"pollMinutes": 30})],
    )
    def patch(self, request, id):
        return run_idempotently(self, request, lambda: self._update(request, id))

    def _update(self, request, id):
        source = self._source(id)
        serializer = SourceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = {UPDATE_FIELDS[name]: value for name, value in serializer.validated_data.items()}
        return _one(services.telematics_source_update(actor=self.actor, source=source, changes=changes))

    @extend_schema(
        operation_id="telematics_sources_delete",
        tags=["telematics sources"],
        summary="Delete a telematics source",
        description="Its runs go with it; the machines it brought and their data stay.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **WRITE_ERRORS},
    )
    def delete(self, request, id):
        return run_idempotently(self, request, lambda: self._delete(id))

    def _delete(self, id):
        services.telematics_source_delete(actor=self.actor, source=self._source(id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TelematicsSourcePollView(ApiView):
    @extend_schema(
        operation_id="telematics_sources_poll",
        tags=["telematics sources"],
        summary="Poll a telematics source now",
        description=(
            "Queues a poll and answers its run at once (202): `startedAt` is null until a worker takes it. A poll "
            "already queued or under way is answered instead of a second one. Read the run's outcome from the "
            "source's `lastRun`."
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            202: OpenApiResponse(
                RunResponse,
                examples=[
                    OpenApiExample(
                        "Queued",
                        value={
                            "data": RUN_EXAMPLE
                            | {"startedAt": None, "finishedAt": None, "durationSeconds": None, "stored": 0}
                        },
                    )
                ],
            ),
            **WRITE_ERRORS,
        },
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._poll(id))

    def _poll(self, id):
        source = selectors.source_get(organisation=self.organisation, source_id=id)
        run = services.telematics_poll_request(actor=self.actor, source=source)
        return Response({"data": run_json(run)}, status=status.HTTP_202_ACCEPTED)
