"""The event feed of DESIGN §9: GET /api/v1/events, oldest first, paged by a cursor that never skips or repeats an
event (selectors.events_after says how). Viewer keys may read it."""

from __future__ import annotations

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
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.fields import InstantField
from hiboo_connect.api.pagination import (
    WHOLE_NUMBER,
    page_body,
    page_from,
    page_parameters,
    page_responses,
)
from hiboo_connect.api.serializers import StrictSerializer
from outbox.models import MessageStatus
from sharing.api import SHARING_EXAMPLE
from sharing.changes import ChangeType

from . import selectors, services
from .models import Cursor, DisabledReason

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


EVENT_EXAMPLE = {
    "id": "2b1f0e6c-8d7a-4c3b-9e5f-1a2b3c4d5e6f",
    "type": "sharing.started",
    "occurredAt": "2026-08-01T06:00:12Z",
    "cursor": "81234.5678",
    "data": {**SHARING_EXAMPLE, "status": "in_progress", "updatedAt": "2026-08-01T06:00:12Z"},
}


#: The schema of an event (rows are built by event_body). Inline: a serializer class may not have a field named
#: "data", which is its own output.
EventSerializer = inline_serializer(
    "Event",
    {
        "id": serializers.UUIDField(
            help_text="Stable: the same in the feed and in every webhook delivery (webhook-id)."
        ),
        "type": serializers.ChoiceField(ChangeType.choices),
        "occurredAt": InstantField(),
        "cursor": serializers.CharField(
            help_text="Opaque: give it as `after` to read the events that follow this one."
        ),
        "data": serializers.JSONField(help_text="The object (a sharing, a contract) as the API shows it to you then."),
    },
)


EventPageResponse = inline_serializer(
    "EventPageResponse",
    {
        "data": inline_serializer(
            "EventPage",
            {
                "rows": serializers.ListField(child=EventSerializer),
                "nextCursor": serializers.CharField(
                    allow_null=True, help_text="Give it as `after` next time; null when there is nothing yet."
                ),
            },
        )
    },
)


def _limit(request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    value = int(raw) if WHOLE_NUMBER.fullmatch(raw) else 0
    if not 1 <= value <= MAX_LIMIT:
        raise serializers.ValidationError(
            {"limit": [_("Give a whole number from %(min)d to %(max)d.") % {"min": 1, "max": MAX_LIMIT}]}
        )
    return value


def _types(request) -> list[str]:
    types = request.query_params.getlist("type")
    unknown = sorted({name for name in types if name not in ChangeType.values})
    if unknown:
        raise serializers.ValidationError({"type": [_("Unknown event type: %s.") % ", ".join(unknown)[:200]]})
    return types


def _after(request) -> Cursor | None:
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    cursor = Cursor.parse(raw)
    if cursor is None:
        raise serializers.ValidationError({"after": [_("Give a cursor this API answered (nextCursor).")]})
    return cursor


class EventListView(ApiView):
    @extend_schema(
        operation_id="events_list",
        tags=["events"],
        summary="Read the event feed",
        description=(
            "Every change your organisation may see (DESIGN §9), oldest first. Give the last page's `nextCursor` as "
            "`after` to read what follows: paging never skips or repeats an event, even while events are being "
            "written. Events are kept 90 days. The same events go to your webhooks."
        ),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="The nextCursor of the previous page."),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                description=f"How many events to return (at most {MAX_LIMIT}).",
            ),
            OpenApiParameter(
                "type",
                {"type": "array", "items": {"type": "string", "enum": ChangeType.values}},
                description="Only events of these types (repeat the parameter).",
                explode=True,
            ),
        ],
        responses={
            200: OpenApiResponse(
                EventPageResponse,
                examples=[
                    OpenApiExample("A page", value={"data": {"rows": [EVENT_EXAMPLE], "nextCursor": "81234.5678"}})
                ],
            ),
            400: api_schema.INVALID,
            401: api_schema.UNAUTHENTICATED,
        },
    )
    def get(self, request):
        after, limit, types = _after(request), _limit(request), _types(request)
        events = selectors.events_after(organisation=self.organisation, after=after, types=types, limit=limit)
        next_cursor = str(Cursor.of(events[-1])) if events else (str(after) if after else None)
        return Response({"data": {"rows": [event.body() for event in events], "nextCursor": next_cursor}})


# --- webhook endpoints -----------------------------------------------------------------------------------------------

WEBHOOK_FIELD_NAMES = {"event_types": "eventTypes"}
WEBHOOKS_DEFAULT_LIMIT, WEBHOOKS_MAX_LIMIT = 50, 200


class WebhookSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    eventTypes = serializers.ListField(source="event_types", child=serializers.ChoiceField(ChangeType.choices))
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    disabledReason = serializers.SerializerMethodField(
        help_text="Why it is disabled: by_admin, gone (it answered 410), failing (every delivery failed for a day)."
    )
    createdAt = InstantField(source="created_at")
    updatedAt = InstantField(source="updated_at")

    @extend_schema_field(serializers.ChoiceField(DisabledReason.values, allow_null=True))
    def get_disabledReason(self, endpoint) -> str | None:
        return endpoint.disabled_reason or None


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="whsec_…: shown this once. Verify each delivery's signature with it.")


class WebhookCreateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2000, help_text="http(s); private and loopback addresses are refused.")
    eventTypes = serializers.ListField(child=serializers.ChoiceField(ChangeType.choices), min_length=1, max_length=50)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class WebhookUpdateSerializer(StrictSerializer):
    url = serializers.CharField(required=False, max_length=2000)
    eventTypes = serializers.ListField(
        child=serializers.ChoiceField(ChangeType.choices), required=False, min_length=1, max_length=50
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    enabled = serializers.BooleanField(
        required=False, help_text="false: nothing is sent. true: sending starts afresh (failures so far forgotten)."
    )


WEBHOOK_UPDATE_FIELDS = {"url": "url", "eventTypes": "event_types", "description": "description", "enabled": "enabled"}
WEBHOOK_EXAMPLE = {
    "id": "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "url": "https://erp.rentandgo.example/hooks/share-centre",
    "eventTypes": ["sharing.started", "sharing.ended"],
    "description": "ERP",
    "enabled": True,
    "disabledReason": None,
    "createdAt": "2026-07-12T09:30:00Z",
    "updatedAt": "2026-07-12T09:30:00Z",
}
WebhookResponse = inline_serializer("WebhookResponse", {"data": WebhookSerializer()})
WebhookWithSecretResponse = inline_serializer("WebhookWithSecretResponse", {"data": WebhookWithSecretSerializer()})
WEBHOOK_NOT_FOUND = api_schema.error_response(
    "Not found, or not your organisation's.", "webhook_not_found", "No such webhook endpoint."
)


def _with_secret(endpoint, secret, status_code) -> Response:
    return Response({"data": {**WebhookSerializer(endpoint).data, "secret": secret}}, status=status_code)


class WebhookListView(ApiView):
    domain_field_names = WEBHOOK_FIELD_NAMES

    @extend_schema(
        operation_id="webhooks_list",
        tags=["webhooks"],
        summary="List webhook endpoints",
        parameters=page_parameters(default_limit=WEBHOOKS_DEFAULT_LIMIT, max_limit=WEBHOOKS_MAX_LIMIT),
        responses=page_responses("Webhook", WebhookSerializer, WEBHOOK_EXAMPLE),
    )
    def get(self, request):
        page = page_from(request, default_limit=WEBHOOKS_DEFAULT_LIMIT, max_limit=WEBHOOKS_MAX_LIMIT)
        endpoints = selectors.webhook_endpoints_of(self.organisation).order_by("created_at", "pk")
        return Response(page_body(endpoints, page, lambda rows: WebhookSerializer(rows, many=True).data))

    @extend_schema(
        operation_id="webhooks_create",
        tags=["webhooks"],
        summary="Register a webhook endpoint",
        description=(
            "The events of these types are POSTed to the URL, signed after Standard Webhooks (docs/webhooks.md). "
            "The answer holds the signing secret, shown this once."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretResponse, **api_schema.WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Starts and ends",
                request_only=True,
                value={
                    "url": "https://erp.rentandgo.example/hooks/share-centre",
                    "eventTypes": ["sharing.started", "sharing.ended"],
                    "description": "ERP",
                },
            )
        ],
    )
    def post(self, request):
        return run_idempotently(self, request, lambda: self._create(request))

    def _create(self, request):
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        endpoint, secret = services.webhook_endpoint_create(
            actor=self.actor,
            url=values["url"],
            event_types=values["eventTypes"],
            description=values.get("description", ""),
        )
        return _with_secret(endpoint, secret, status.HTTP_201_CREATED)


class WebhookDetailView(ApiView):
    domain_field_names = WEBHOOK_FIELD_NAMES

    def _endpoint(self, endpoint_id):
        return selectors.webhook_endpoint_get(organisation=self.organisation, endpoint_id=endpoint_id)

    @extend_schema(
        operation_id="webhooks_retrieve",
        tags=["webhooks"],
        summary="Get a webhook endpoint",
        responses={200: WebhookResponse, **api_schema.READ_ERRORS, 404: WEBHOOK_NOT_FOUND},
    )
    def get(self, request, id):
        return Response({"data": WebhookSerializer(self._endpoint(id)).data})

    @extend_schema(
        operation_id="webhooks_update",
        tags=["webhooks"],
        summary="Change a webhook endpoint",
        description="Send only the fields to change. `enabled: true` re-enables an endpoint that was disabled.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=WebhookUpdateSerializer,
        responses={200: WebhookResponse, **api_schema.WRITE_ERRORS, 404: WEBHOOK_NOT_FOUND},
    )
    def patch(self, request, id):
        return run_idempotently(self, request, lambda: self._update(request, id))

    def _update(self, request, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        serializer = WebhookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = {WEBHOOK_UPDATE_FIELDS[name]: value for name, value in serializer.validated_data.items()}
        endpoint = services.webhook_endpoint_update(actor=self.actor, endpoint=endpoint, changes=changes)
        return Response({"data": WebhookSerializer(endpoint).data})

    @extend_schema(
        operation_id="webhooks_delete",
        tags=["webhooks"],
        summary="Delete a webhook endpoint",
        description="Deliveries still waiting for it are dropped. The events stay in the feed.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **api_schema.WRITE_ERRORS,
            404: WEBHOOK_NOT_FOUND,
        },
    )
    def delete(self, request, id):
        return run_idempotently(self, request, lambda: self._delete(id))

    def _delete(self, endpoint_id):
        services.webhook_endpoint_delete(actor=self.actor, endpoint=self._endpoint(endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(ApiView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        tags=["webhooks"],
        summary="Rotate a webhook endpoint's secret",
        description=(
            "Answers the new secret, shown this once. For 24 hours every delivery carries two signatures, one with "
            "the new secret and one with the previous, so the receiver can switch without losing a delivery."
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: WebhookWithSecretResponse, **api_schema.WRITE_ERRORS, 404: WEBHOOK_NOT_FOUND},
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._rotate(id))

    def _rotate(self, endpoint_id):
        endpoint = selectors.webhook_endpoint_get(organisation=self.organisation, endpoint_id=endpoint_id)
        endpoint, secret = services.webhook_endpoint_rotate_secret(actor=self.actor, endpoint=endpoint)
        return _with_secret(endpoint, secret, status.HTTP_200_OK)


# --- deliveries ------------------------------------------------------------------------------------------------------

DELIVERIES_DEFAULT_LIMIT, DELIVERIES_MAX_LIMIT = 50, 200


class WebhookAttemptSerializer(serializers.Serializer):
    attemptedAt = InstantField(source="attempted_at")
    statusCode = serializers.IntegerField(
        source="status_code", allow_null=True, help_text="The receiver's answer; null when there was none."
    )
    durationMs = serializers.IntegerField(source="duration_ms")
    succeeded = serializers.BooleanField()
    error = serializers.CharField(help_text="Why it failed (a refused connection, a time-out), or empty.")


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Give it as `deliveryId` to send this delivery again.")
    eventId = serializers.SerializerMethodField(help_text="The event's id: the webhook-id header of every attempt.")
    eventType = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        MessageStatus.choices, help_text="pending (on its way, or waiting for its next attempt), sent, or failed."
    )
    attemptCount = serializers.IntegerField(source="attempts", help_text="Attempts in its current series.")
    createdAt = InstantField(source="created_at")
    sentAt = InstantField(source="sent_at", allow_null=True)
    attempts = WebhookAttemptSerializer(source="attempt_rows", many=True, help_text="Newest first.")

    @extend_schema_field(serializers.UUIDField())
    def get_eventId(self, delivery) -> str:
        return delivery.context.get("event_id", "")

    @extend_schema_field(serializers.ChoiceField(ChangeType.choices))
    def get_eventType(self, delivery) -> str:
        return delivery.context.get("event_type", "")


class RedeliverSerializer(StrictSerializer):
    deliveryId = serializers.UUIDField(
        required=False, help_text="The failed delivery to send again; leave it out to send every failed one again."
    )


DELIVERY_EXAMPLE = {
    "id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c",
    "eventId": EVENT_EXAMPLE["id"],
    "eventType": "sharing.started",
    "status": "failed",
    "attemptCount": 15,
    "createdAt": "2026-08-01T06:00:12Z",
    "sentAt": None,
    "attempts": [
        {
            "attemptedAt": "2026-08-02T06:15:40Z",
            "statusCode": 503,
            "durationMs": 87,
            "succeeded": False,
            "error": "",
        }
    ],
}
RedeliveredResponse = inline_serializer(
    "RedeliveredResponse",
    {
        "data": inline_serializer(
            "Redelivered", {"redelivered": serializers.IntegerField(help_text="Deliveries put back in line.")}
        )
    },
)
DELIVERY_NOT_FOUND = api_schema.error_response(
    "No such webhook endpoint, or no such delivery of it.", "delivery_not_found", "No such delivery."
)


class WebhookDeliveryListView(ApiView):
    @extend_schema(
        operation_id="webhooks_deliveries_list",
        tags=["webhooks"],
        summary="List a webhook endpoint's deliveries",
        description="Newest first, each with its attempts (time, answer code, duration).",
        parameters=[
            *page_parameters(default_limit=DELIVERIES_DEFAULT_LIMIT, max_limit=DELIVERIES_MAX_LIMIT),
            OpenApiParameter(
                "status", {"type": "string", "enum": MessageStatus.values}, description="Only deliveries in this state."
            ),
        ],
        responses=page_responses(
            "WebhookDelivery",
            WebhookDeliverySerializer,
            DELIVERY_EXAMPLE,
            errors={**api_schema.READ_ERRORS, 404: WEBHOOK_NOT_FOUND},
        ),
    )
    def get(self, request, id):
        endpoint = selectors.webhook_endpoint_get(organisation=self.organisation, endpoint_id=id)
        page = page_from(request, default_limit=DELIVERIES_DEFAULT_LIMIT, max_limit=DELIVERIES_MAX_LIMIT)
        deliveries = selectors.webhook_deliveries(endpoint).order_by("-created_at", "pk")
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in MessageStatus.values:
                raise serializers.ValidationError({"status": [_("Give one of: %s.") % ", ".join(MessageStatus.values)]})
            deliveries = deliveries.filter(status=wanted)

        def rows(page_rows):
            return WebhookDeliverySerializer(selectors.webhook_attempts_attach(page_rows), many=True).data

        return Response(page_body(deliveries, page, rows))


class WebhookRedeliverView(ApiView):
    @extend_schema(
        operation_id="webhooks_redeliver",
        tags=["webhooks"],
        summary="Send failed deliveries again",
        description=(
            "One failed delivery (`deliveryId`), or every failed delivery of the endpoint (an empty body). Each gets "
            "a fresh series of attempts under its original webhook-id. The endpoint must be enabled."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=RedeliverSerializer,
        responses={
            200: RedeliveredResponse,
            **api_schema.WRITE_ERRORS,
            404: DELIVERY_NOT_FOUND,
            409: api_schema.error_response(
                "The endpoint is disabled, or the delivery has not failed.",
                "endpoint_disabled",
                "Enable the endpoint first: a disabled endpoint receives nothing.",
            ),
        },
        examples=[
            OpenApiExample("Every failed one", request_only=True, value={}),
            OpenApiExample("One", request_only=True, value={"deliveryId": DELIVERY_EXAMPLE["id"]}),
        ],
    )
    def post(self, request, id):
        return run_idempotently(self, request, lambda: self._redeliver(request, id))

    def _redeliver(self, request, endpoint_id):
        endpoint = selectors.webhook_endpoint_get(organisation=self.organisation, endpoint_id=endpoint_id)
        serializer = RedeliverSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        delivery_id = serializer.validated_data.get("deliveryId")
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id) if delivery_id else None
        count = services.webhook_deliveries_retry(actor=self.actor, endpoint=endpoint, delivery=delivery)
        return Response({"data": {"redelivered": count}})
