"""The event feed of DESIGN §9: GET /api/v1/events, oldest first, paged by a cursor that never skips or repeats an
event (selectors.events_after says how). Viewer keys may read it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api import ApiView
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.fields import InstantField, format_instant
from hiboo_connect.api.pagination import WHOLE_NUMBER
from sharing.api import SHARING_EXAMPLE
from sharing.changes import ChangeType

from . import selectors
from .models import Event

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


def event_body(event: Event) -> dict:
    """An event as the feed and the webhooks give it."""
    return {
        "id": str(event.event_id),
        "type": event.type,
        "occurredAt": format_instant(event.occurred_at),
        "cursor": str(selectors.Cursor.of(event)),
        "data": event.data,
    }


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
        "type": serializers.ChoiceField(ChangeType.values),
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


def _after(request) -> selectors.Cursor | None:
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    cursor = selectors.Cursor.parse(raw)
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
        next_cursor = str(selectors.Cursor.of(events[-1])) if events else (str(after) if after else None)
        return Response({"data": {"rows": [event_body(event) for event in events], "nextCursor": next_cursor}})
