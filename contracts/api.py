"""The contracts API (DESIGN §7): PUT a contract's desired state and get the plan back, list contracts, read one with
its sharings and the history of its applies, cancel one. Thin: the plan and the writes live in plan.py and
services.py, the reads in selectors.py and the one ContractFilterSet."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from accounts.api import ApiView
from accounts.idempotency import IDEMPOTENCY_PARAMETER, run_idempotently
from fleet.data_packs import ALL_DATA_PACKS
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.errors import camel_case, error_body
from hiboo_connect.api.fields import InstantField, PropertiesField, format_instant
from hiboo_connect.api.pagination import page_body, page_envelope, page_from, page_parameters
from hiboo_connect.api.serializers import StrictSerializer
from sharing.api import SHARING_EXAMPLE, SharingSerializer, sharing_data
from sharing.lifecycle import too_late_refusal

from . import imports, selectors, services
from .filters import ContractFilterSet
from .models import ContractStatus
from .plan import Action, Desired, Line

CONTRACTS_DEFAULT_LIMIT, CONTRACTS_MAX_LIMIT = 50, 200
FIELD_NAMES = {
    "recipient_email": "recipient",
    "recipient_organisation_name": "recipientOrganisationName",
    "data_packs": "dataPacksCodes",
    "start_at": "startDate",
    "end_at": "endDate",
}
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
IF_MATCH = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')

# --- serializers -----------------------------------------------------------------------------------------------------


class ContractLineSerializer(StrictSerializer):
    assetId = serializers.UUIDField(help_text="Ids from GET /assets: a machine of your organisation.")
    lineReference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.LINE_REFERENCE_MAX,
        help_text="Your line's id. Lines are matched to sharings by it when given, else by asset.",
    )
    startDate = InstantField(required=False, allow_null=True, help_text="Default: the contract's.")
    endDate = InstantField(required=False, allow_null=True, help_text="Default: the contract's.")


class ContractPutSerializer(StrictSerializer):
    recipient = serializers.EmailField(max_length=254, help_text="The person at the customer the data is for.")
    recipientOrganisationName = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Required when the recipient has no account yet."
    )
    status = serializers.ChoiceField(ContractStatus.choices, required=False, default=ContractStatus.ACTIVE)
    startDate = InstantField(help_text="The contract's start; lines without their own start take it.")
    endDate = InstantField(required=False, allow_null=True, help_text="Empty or null: open-ended.")
    dataPacksCodes = serializers.ListField(
        child=serializers.ChoiceField(ALL_DATA_PACKS), required=False, min_length=1, help_text="Default: all."
    )
    notificationEnabled = serializers.BooleanField(required=False, default=True)
    properties = PropertiesField(required=False)
    lines = serializers.ListField(
        child=ContractLineSerializer(),
        required=False,
        default=list,
        max_length=services.LINES_MAX,
        help_text="One sharing per line: one machine each.",
    )

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}

        def check(prefix: str, start, end) -> None:
            for name, value in (("startDate", start), ("endDate", end)):
                refusal = too_late_refusal(value, "end_at" if name == "endDate" else "start_at")
                if refusal is not None:
                    errors[prefix + name] = [refusal.message]
            if start is not None and end is not None and end <= start and prefix + "endDate" not in errors:
                errors[prefix + "endDate"] = [_("The end must be after the start.")]

        check("", attrs["startDate"], attrs.get("endDate"))
        for index, line in enumerate(attrs["lines"]):
            start = line.get("startDate") or attrs["startDate"]
            end = line["endDate"] if line.get("endDate") is not None else attrs.get("endDate")
            check(f"lines.{index}.", start, end)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def desired(self, reference: str) -> Desired:
        values = self.validated_data
        return Desired(
            reference=reference,
            status=values["status"],
            recipient_email=values["recipient"],
            recipient_organisation_name=values.get("recipientOrganisationName", ""),
            start_at=values["startDate"],
            end_at=values.get("endDate"),
            data_packs=tuple(values.get("dataPacksCodes") or ALL_DATA_PACKS),
            notification_enabled=values["notificationEnabled"],
            properties=values.get("properties") or {},
            lines=tuple(
                Line(
                    asset_id=line["assetId"],
                    line_reference=(line.get("lineReference") or "").strip(),
                    start_at=line.get("startDate"),
                    end_at=line.get("endDate"),
                )
                for line in values["lines"]
            ),
        )


class PlanChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()


class PlanStepSerializer(serializers.Serializer):
    action = serializers.ChoiceField(Action.ALL)
    assetId = serializers.UUIDField()
    lineReference = serializers.CharField(allow_null=True)
    sharingId = serializers.UUIDField(allow_null=True, help_text="Null for a create in a dry run or a conflict.")
    changes = PlanChangeSerializer(many=True)
    code = serializers.CharField(allow_null=True, help_text="For a conflict: the rule's code.")
    reason = serializers.CharField(allow_null=True, help_text="For a conflict: the rule's message.")


class PlanWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(["overlap", "duplicate_line", "drift"])
    assetId = serializers.UUIDField()
    field = serializers.CharField(allow_null=True, help_text="For drift: the field edited by hand.")
    message = serializers.CharField()


class ContractApplySerializer(serializers.Serializer):
    reference = serializers.CharField()
    dryRun = serializers.BooleanField()
    generation = serializers.IntegerField()
    status = serializers.ChoiceField(ContractStatus.choices)
    plan = PlanStepSerializer(many=True)
    summary = serializers.DictField(child=serializers.IntegerField())
    warnings = PlanWarningSerializer(many=True)
    sharings = SharingSerializer(many=True, help_text="The contract's sharings after the apply (before, in a dry run).")


class ContractRowSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(ContractStatus.choices)
    generation = serializers.IntegerField()
    recipient = serializers.EmailField()
    startDate = InstantField(allow_null=True)
    endDate = InstantField(allow_null=True)
    lines = serializers.IntegerField()
    sharingCounts = serializers.DictField(child=serializers.IntegerField(), help_text="By sharing status.")
    lastAppliedAt = InstantField(allow_null=True)
    lastAppliedBy = serializers.CharField()


class ContractApplyHistorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    appliedAt = InstantField()
    appliedBy = serializers.CharField()
    dryRun = serializers.BooleanField()
    generation = serializers.IntegerField()
    summary = serializers.DictField(child=serializers.IntegerField())
    plan = PlanStepSerializer(many=True)


class ContractDetailSerializer(ContractRowSerializer):
    desiredState = serializers.JSONField(help_text="The last desired state applied, as PUT takes it.")
    sharings = SharingSerializer(many=True)
    applies = ContractApplyHistorySerializer(many=True, help_text="Newest first, the last 50.")


ApplyResponse = inline_serializer("ContractApplyResponse", {"data": ContractApplySerializer()})
ConflictResponse = inline_serializer(
    "ContractConflictResponse",
    {
        "error": serializers.DictField(help_text="code contract_conflict, message, fields: as every error."),
        "data": ContractApplySerializer(),
    },
)
CONTRACT_DETAIL = inline_serializer("ContractDetailResponse", {"data": ContractDetailSerializer()})


CONTRACT_EXAMPLE = {
    "recipient": "site.manager@buildco.example",
    "recipientOrganisationName": "BuildCo",
    "status": "active",
    "startDate": "2026-08-01T06:00:00Z",
    "endDate": "2026-08-31T18:00:00Z",
    "dataPacksCodes": ["essential", "usage_hours"],
    "notificationEnabled": True,
    "properties": {"customer": "BuildCo", "site": "Lyon Part-Dieu"},
    "lines": [
        {"assetId": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61", "lineReference": "L1"},
        {"assetId": "7a2e4c1b-9d8f-4e3a-b6c5-1f0e2d3c4b5a", "lineReference": "L2", "endDate": "2026-08-15T18:00:00Z"},
    ],
}
PLAN_EXAMPLE = {
    "reference": "CONTRACT-2026-0042",
    "dryRun": False,
    "generation": 1,
    "status": "active",
    "plan": [
        {
            "action": "create",
            "assetId": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
            "lineReference": "L1",
            "sharingId": "5f0c8a43-6a43-4c2e-9d0a-3f1b6f4f9b1e",
            "changes": [{"field": "startDate", "before": None, "after": "2026-08-01T06:00:00Z"}],
            "code": None,
            "reason": None,
        }
    ],
    "summary": {"create": 1, "update": 0, "stop": 0, "delete": 0, "noop": 0, "conflict": 0},
    "warnings": [],
    "sharings": [SHARING_EXAMPLE],
}


# --- answers ---------------------------------------------------------------------------------------------------------


def _sharings_json(sharings, now) -> list[dict]:
    """The sharings as GET /sharings/{id} shows them (sharing_data: SharingSerializer's fields without DRF's walk)."""
    return [sharing_data(sharing, now=now) for sharing in sharings]


def _apply_json(result: services.ApplyResult, *, sharings: list[dict] | None = None) -> dict[str, Any]:
    """The answer of an apply; `sharings`: its sharings already serialised (a file's, all at once)."""
    return {
        "reference": result.desired.reference,
        "dryRun": result.dry_run,
        "generation": result.contract.generation,
        "status": result.desired.status,
        "plan": result.plan.as_json(),
        "summary": result.plan.summary,
        "warnings": [warning.as_json() for warning in result.plan.warnings],
        "sharings": sharings if sharings is not None else _sharings_json(result.sharings, timezone.now()),
    }


def _etag(response: Response, generation: int) -> Response:
    response["ETag"] = f'"{generation}"'
    return response


def _flag(request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in choices:
        raise serializers.ValidationError({name: [_("Give one of: %s.") % ", ".join(choices)]})
    return value


def _expected_generation(request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = IF_MATCH.fullmatch(raw)
    if match is None:
        raise serializers.ValidationError(
            {"If-Match": [_('Give the generation you read, as the ETag gave it: "3", for example.')]}
        )
    return int(match[1])


# --- views -----------------------------------------------------------------------------------------------------------

CONTRACT_LIST_PARAMETERS = [
    *page_parameters(default_limit=CONTRACTS_DEFAULT_LIMIT, max_limit=CONTRACTS_MAX_LIMIT),
    OpenApiParameter(
        "status",
        {"type": "array", "items": {"type": "string", "enum": ContractStatus.values}},
        description="One or more statuses (repeat the parameter).",
        explode=True,
    ),
    OpenApiParameter("recipient", OpenApiTypes.STR, description="Recipient e-mail (case-insensitive)."),
    OpenApiParameter("assetId", OpenApiTypes.UUID, description="Contracts that share this asset."),
]
CONTRACT_FILTERS = {"status": "status", "recipient": "recipient", "assetId": "asset_id"}


class ContractListView(ApiView):
    @extend_schema(
        operation_id="contracts_list",
        tags=["contracts"],
        summary="List contracts",
        description=(
            "Your organisation's contracts, last applied first, with how many of their sharings have each status."
        ),
        parameters=CONTRACT_LIST_PARAMETERS,
        responses={200: page_envelope("Contract", ContractRowSerializer), **api_schema.READ_ERRORS},
    )
    def get(self, request):
        params = request.query_params
        if any(not UUID_PATTERN.fullmatch(value) for value in params.getlist("assetId")):
            raise serializers.ValidationError({"assetId": [_("Give an asset id (a UUID).")]})
        data = QueryDict(mutable=True)
        for api_name, filter_name in CONTRACT_FILTERS.items():
            if api_name in params:
                data.setlist(filter_name, params.getlist(api_name))
        filterset = ContractFilterSet(data, organisation=self.organisation)
        if not filterset.is_valid():
            names = {filter_name: api_name for api_name, filter_name in CONTRACT_FILTERS.items()}
            raise serializers.ValidationError(
                {names.get(name, camel_case(name)): errors for name, errors in filterset.errors.items()}
            )
        page = page_from(request, default_limit=CONTRACTS_DEFAULT_LIMIT, max_limit=CONTRACTS_MAX_LIMIT)

        def rows(contracts):
            counts = selectors.sharing_counts_of(contracts)
            return [selectors.contract_row(contract, counts[contract.pk]) for contract in contracts]

        return Response(page_body(filterset.qs, page, rows))


_RETRIEVE_SCHEMA: dict[str, Any] = {
    "tags": ["contracts"],
    "summary": "Get a contract",
    "description": "The last desired state applied, the contract's sharings and the history of its applies.",
    "responses": {200: CONTRACT_DETAIL, **api_schema.READ_ERRORS},
}

_APPLY_SCHEMA: dict[str, Any] = {
    "tags": ["contracts"],
    "summary": "Apply a contract's desired state",
    "description": (
        "Send the whole contract as it should be; the share centre works out the plan (one sharing per line: "
        "create, update, stop, delete, noop or conflict) and applies it in one transaction. The same desired "
        "state again is all `noop` and writes nothing. `?dryRun=true` answers the plan and writes nothing. With "
        "`onConflict=fail` (the default) a step the sharing rules forbid refuses the whole apply (409, with the "
        "plan); with `skip` the rest applies. The answer's ETag is the contract's generation: send it back in "
        "If-Match to apply only over what you read (412 otherwise)."
    ),
    "parameters": [
        OpenApiParameter("dryRun", {"type": "string", "enum": ["true", "false"]}, description="Preview only."),
        OpenApiParameter("onConflict", {"type": "string", "enum": ["fail", "skip"]}, description="Default: fail."),
        OpenApiParameter(
            "If-Match",
            {"type": "string", "pattern": '^(W/)?"?[0-9]+"?$|^\\*$'},
            OpenApiParameter.HEADER,
            description='The generation you read (the ETag), e.g. "3".',
        ),
        IDEMPOTENCY_PARAMETER,
    ],
    "request": ContractPutSerializer,
    "responses": {
        200: OpenApiResponse(ApplyResponse, description="Applied (or previewed), the plan it followed."),
        201: OpenApiResponse(ApplyResponse, description="The contract's first apply."),
        **api_schema.WRITE_ERRORS,
        409: OpenApiResponse(ConflictResponse, description="onConflict=fail and the plan has conflicts."),
        412: api_schema.error_response(
            "If-Match names an older generation.",
            "generation_mismatch",
            "The contract changed since you read it (generation 4, not 3).",
        ),
    },
    "examples": [
        OpenApiExample("A new contract", request_only=True, value=CONTRACT_EXAMPLE),
        OpenApiExample("The plan", response_only=True, status_codes=["201"], value={"data": PLAN_EXAMPLE}),
    ],
}

_CANCEL_SCHEMA: dict[str, Any] = {
    "tags": ["contracts"],
    "summary": "Cancel a contract",
    "description": (
        "The same as a PUT of its last desired state with `status: cancelled`: every open sharing stops, or is "
        "deleted if nothing was shared yet. Answers the plan."
    ),
    "parameters": [IDEMPOTENCY_PARAMETER],
    "responses": {200: ApplyResponse, **api_schema.WRITE_ERRORS},
}


def _named_contract_schema(schema: dict, *, operation_id: str, reference: str, summary: str):
    """A contract operation's schema on a path that names one reference (/contracts/import, ...): documented, so the
    methods its Allow header lists are the schema's."""
    description = f'The contract whose reference is "{reference}": {schema.get("description", summary)}'
    return extend_schema(**{**schema, "operation_id": operation_id, "summary": summary, "description": description})


class ContractDetailView(ApiView):
    domain_field_names = FIELD_NAMES

    @extend_schema(operation_id="contracts_retrieve", **_RETRIEVE_SCHEMA)
    def get(self, request, reference):
        contract = selectors.contract_get(organisation=self.organisation, reference=reference)
        now = timezone.now()
        data = selectors.contract_row(contract, selectors.sharing_counts_of([contract])[contract.pk])
        data["desiredState"] = contract.desired_state
        data["sharings"] = _sharings_json(services.contract_sharings(contract), now)
        data["applies"] = [
            {
                "id": str(apply.pk),
                "appliedAt": format_instant(apply.applied_at),
                "appliedBy": apply.actor_label,
                "dryRun": apply.dry_run,
                "generation": apply.generation,
                "summary": apply.summary,
                "plan": apply.plan,
            }
            for apply in selectors.contract_history(contract)
        ]
        return _etag(Response({"data": data}), contract.generation)

    @extend_schema(operation_id="contracts_apply", **_APPLY_SCHEMA)
    def put(self, request, reference):
        return run_idempotently(self, request, lambda: self._apply(request, reference))

    def _apply(self, request, reference):
        dry_run = _flag(request, "dryRun", ("true", "false"), "false") == "true"
        on_conflict = _flag(request, "onConflict", tuple(services.OnConflict.values), services.OnConflict.FAIL)
        expected = _expected_generation(request)
        serializer = ContractPutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.contract_apply(
                actor=self.actor,
                reference=reference,
                desired=serializer.desired(reference),
                dry_run=dry_run,
                on_conflict=on_conflict,
                expected_generation=expected,
            )
        except services.ContractConflict as conflict:
            body = {**error_body(conflict.code, conflict.message), "data": _apply_json(conflict.result)}
            return _etag(Response(body, status=status.HTTP_409_CONFLICT), conflict.result.contract.generation)
        code = status.HTTP_201_CREATED if result.created and not result.dry_run else status.HTTP_200_OK
        return _etag(Response({"data": _apply_json(result)}, status=code), result.contract.generation)

    @extend_schema(operation_id="contracts_cancel", **_CANCEL_SCHEMA)
    def delete(self, request, reference):
        return run_idempotently(self, request, lambda: self._cancel(reference))

    def _cancel(self, reference):
        contract = selectors.contract_get(organisation=self.organisation, reference=reference)
        result = services.contract_cancel(actor=self.actor, contract=contract)
        return _etag(Response({"data": _apply_json(result)}), result.contract.generation)


# --- CSV import ------------------------------------------------------------------------------------------------------

#: The largest file taken: 3,000 lines of a wide spreadsheet are well under a megabyte.
IMPORT_MAX_BYTES = 5 * 1024 * 1024


class CsvBodyParser(BaseParser):
    """A CSV file sent as the body itself (text/csv), handed over as bytes."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(IMPORT_MAX_BYTES + 1) if stream is not None else b""


def _import_json(result: imports.ImportResult) -> dict[str, Any]:
    shown = iter(_sharings_json([sharing for apply in result.results for sharing in apply.sharings], timezone.now()))
    contracts = [_apply_json(apply, sharings=[next(shown) for _sharing in apply.sharings]) for apply in result.results]
    totals = dict.fromkeys(Action.ALL, 0)
    for contract in contracts:
        for action, count in contract["summary"].items():
            totals[action] += count
    return {"dryRun": result.dry_run, "summary": totals, "contracts": contracts}


IMPORT_ROW_ERROR = inline_serializer(
    "ImportRowError",
    {
        "row": serializers.IntegerField(help_text="As a spreadsheet numbers it: the header is row 1."),
        "column": serializers.CharField(allow_null=True),
        "code": serializers.CharField(),
        "message": serializers.CharField(),
    },
    many=True,
)


class ContractImportView(ContractDetailView):
    """POST /contracts/import imports a file; every other method of that path addresses the contract whose reference
    is "import", as /contracts/{reference} would (the URL passes reference="import"), so that any reference works."""

    def get_parsers(self):
        # The schema generator asks without a request: the POST's parsers are the ones to document.
        if getattr(self.request, "method", "POST") == "POST":
            return [CsvBodyParser(), MultiPartParser()]
        return super().get_parsers()

    @_named_contract_schema(
        _RETRIEVE_SCHEMA,
        operation_id="contracts_import_named_retrieve",
        reference="import",
        summary="Get the contract named import",
    )
    def get(self, request, reference):
        return super().get(request, reference)

    @_named_contract_schema(
        _APPLY_SCHEMA,
        operation_id="contracts_import_named_apply",
        reference="import",
        summary="Apply the contract named import",
    )
    def put(self, request, reference):
        return super().put(request, reference)

    @_named_contract_schema(
        _CANCEL_SCHEMA,
        operation_id="contracts_import_named_cancel",
        reference="import",
        summary="Cancel the contract named import",
    )
    def delete(self, request, reference):
        return super().delete(request, reference)

    @extend_schema(
        operation_id="contracts_import",
        tags=["contracts"],
        summary="Apply contracts from a CSV file",
        description=(
            "One row per contract line, the columns of GET /contracts/import/template (UTF-8 with or without a BOM, "
            "commas or semicolons, dates as yyyy-mm-dd or dd/mm/yyyy in your organisation's time zone, an end date "
            "included whole). Send the file as the body (Content-Type: text/csv) or as the multipart field `file`. "
            "`?dryRun=true` answers every contract's plan and writes nothing. Nothing applies unless every row is "
            "valid (400 with each error's row and column) and no plan has a conflict (409 with the plans)."
        ),
        parameters=[
            OpenApiParameter("dryRun", {"type": "string", "enum": ["true", "false"]}, description="Preview only."),
            IDEMPOTENCY_PARAMETER,
        ],
        request={
            "text/csv": OpenApiTypes.BINARY,
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={
            200: inline_serializer(
                "ContractImportResponse",
                {
                    "data": inline_serializer(
                        "ContractImport",
                        {
                            "dryRun": serializers.BooleanField(),
                            "summary": serializers.DictField(child=serializers.IntegerField()),
                            "contracts": ContractApplySerializer(many=True),
                        },
                    )
                },
            ),
            **api_schema.WRITE_ERRORS,
            400: inline_serializer(
                "ContractImportInvalid",
                {
                    "error": serializers.DictField(),
                    # Only when the file itself has errors; a bad header or parameter answers the error alone.
                    "data": inline_serializer("ContractImportErrors", {"errors": IMPORT_ROW_ERROR}, required=False),
                },
            ),
            409: OpenApiResponse(description="A plan has conflicts: nothing was applied (the plans in `data`)."),
            415: api_schema.error_response(
                "The body is neither a CSV file (text/csv) nor a multipart form that can be read.",
                "unsupported_media_type",
                'Unsupported media type "application/xml" in request.',
            ),
        },
    )
    def post(self, request, reference):
        return run_idempotently(self, request, lambda: self._import(request))

    def _import(self, request):
        dry_run = _flag(request, "dryRun", ("true", "false"), "false") == "true"
        if isinstance(request.data, bytes):
            raw = request.data
        elif not request.data:
            raw = b""  # an empty body: DRF parses nothing, the file is empty
        else:
            upload = request.data.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise serializers.ValidationError({"file": [_("Send the CSV file as the field “file”.")]})
            raw = upload.read(IMPORT_MAX_BYTES + 1)
        if len(raw) > IMPORT_MAX_BYTES:
            raise serializers.ValidationError({"file": [_("The file is too large (5 MB at most).")]})
        try:
            result = imports.contracts_import(actor=self.actor, raw=raw, dry_run=dry_run)
        except imports.CsvInvalid as invalid:
            errors = [error.as_json() for error in invalid.errors]
            message = ngettext(
                "%(count)d error in the file: nothing was applied.",
                "%(count)d errors in the file: nothing was applied.",
                len(errors),
            ) % {"count": len(errors)}
            body = {**error_body("invalid_csv", message), "data": {"errors": errors}}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except imports.ImportConflict as conflict:
            message = _("Some plans break the sharing rules: nothing was applied.")
            body = {**error_body("contract_conflict", message), "data": _import_json(conflict.result)}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response({"data": _import_json(result)})


class ContractImportTemplateView(ContractDetailView):
    """GET /contracts/import/template gives the CSV template (DESIGN §7); PUT and DELETE of that path address the
    contract whose reference is "import/template", as /contracts/{reference} would (the URL passes the reference).
    Such a contract is read through the list: GET /contracts?q=import/template."""

    @extend_schema(
        operation_id="contracts_import_template",
        tags=["contracts"],
        summary="The CSV template of contracts",
        responses={(200, "text/csv"): OpenApiTypes.STR, **api_schema.READ_ERRORS},
    )
    def get(self, request, reference):
        response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="contracts.csv"'
        return response

    @_named_contract_schema(
        _APPLY_SCHEMA,
        operation_id="contracts_import_template_named_apply",
        reference="import/template",
        summary="Apply the contract named import/template",
    )
    def put(self, request, reference):
        return super().put(request, reference)

    @_named_contract_schema(
        _CANCEL_SCHEMA,
        operation_id="contracts_import_template_named_cancel",
        reference="import/template",
        summary="Cancel the contract named import/template",
    )
    def delete(self, request, reference):
        return super().delete(request, reference)
