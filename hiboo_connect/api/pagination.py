"""Offset and limit paging, answered as `{"data": {"total": N, "rows": [...]}}`."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .schema import READ_ERRORS

WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def _whole_number(request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = int(raw) if WHOLE_NUMBER.fullmatch(raw) else None
    if value is None or not minimum <= value <= maximum:
        raise serializers.ValidationError(
            {name: [_("Give a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum}]}
        )
    return value


MAX_OFFSET = 10_000_000


def page_from(request, *, default_limit: int, max_limit: int) -> Page:
    return Page(
        offset=_whole_number(request, "offset", 0, 0, MAX_OFFSET),
        limit=_whole_number(request, "limit", default_limit, 1, max_limit),
    )


def page_body(queryset, page: Page, serialize) -> dict:
    """The envelope for one page of `queryset`; `serialize` turns the page's rows into JSON-ready dicts."""
    total = queryset.count()
    rows = list(queryset[page.offset : page.offset + page.limit]) if page.offset < total else []
    return {"data": {"total": total, "rows": serialize(rows)}}


def page_parameters(*, default_limit: int, max_limit: int) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            OpenApiParameter.QUERY,
            description="How many rows to skip.",
        ),
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            OpenApiParameter.QUERY,
            description=f"How many rows to return (at most {max_limit}).",
        ),
    ]


def page_envelope(name: str, row_serializer) -> type[serializers.Serializer]:
    """The schema of a page of `row_serializer` rows, for drf-spectacular."""
    rows = type(
        f"{name}Page",
        (serializers.Serializer,),
        {
            "total": serializers.IntegerField(min_value=0),
            "rows": row_serializer(many=True),
        },
    )
    return type(f"{name}PageResponse", (serializers.Serializer,), {"data": rows()})


def page_responses(name: str, row_serializer, example: dict | None = None, *, errors: dict | None = None) -> dict:
    """The responses of a list operation for drf-spectacular: 200 with a page of `row_serializer` rows (with a
    one-row example when given), and the errors a read may answer (READ_ERRORS unless `errors` says otherwise)."""
    examples = [OpenApiExample("A page", value={"data": {"total": 1, "rows": [example]}})] if example else []
    page = OpenApiResponse(page_envelope(name, row_serializer), examples=examples)
    return {200: page, **(READ_ERRORS if errors is None else errors)}
