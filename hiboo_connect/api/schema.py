"""How the OpenAPI schema describes what drf-spectacular cannot see by itself: the API-key security schemes, the
common error shape on every operation, and request bodies that refuse unknown fields."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["accessToken", "bearer"]

    def get_security_requirement(self, auto_schema):
        # Either header will do.
        return [{"accessToken": []}, {"bearer": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-access-token",
                "description": "An organisation API key (python manage.py create_api_key, or the portal).",
            },
            {"type": "http", "scheme": "bearer", "description": "The same API key, as Authorization: Bearer <key>."},
        ]


ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(help_text="Machine-readable, e.g. start_locked."),
                "message": serializers.CharField(help_text="For humans: what is wrong and why."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="Messages per request field (camelCase), when a field is at fault.",
                ),
            },
        )
    },
)


def error_response(description: str, code: str, message: str, fields: dict | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[OpenApiExample(code, value={"error": {"code": code, "message": message, "fields": fields or {}}})],
    )


UNAUTHENTICATED = error_response(
    "No API key, or a revoked or unknown one.",
    "not_authenticated",
    "Send an API key in the x-access-token header (or as Authorization: Bearer <key>).",
)
READ_ONLY = error_response("A viewer key tried to write.", "read_only_key", "This API key is read only (viewer).")
NOT_FOUND = error_response("Not found, or not visible to your organisation.", "sharing_not_found", "No such sharing.")
INVALID = error_response(
    "The input is not valid.",
    "invalid_input",
    "startDate: Give the time zone too, for example 2026-07-01T08:00:00Z or 2026-07-01T10:00:00+02:00.",
    {"startDate": ["Give the time zone too, for example 2026-07-01T08:00:00Z or 2026-07-01T10:00:00+02:00."]},
)
IDEMPOTENCY_REUSED = error_response(
    "The Idempotency-Key was already used for another request.",
    "idempotency_key_reused",
    "This Idempotency-Key was already used for another request. Use a new key for a new request.",
)

READ_ERRORS = {400: INVALID, 401: UNAUTHENTICATED, 404: NOT_FOUND}
WRITE_ERRORS = {**READ_ERRORS, 403: READ_ONLY, 422: IDEMPOTENCY_REUSED}


def forbid_unknown_request_fields(result, generator, request, public):
    """POSTPROCESSING_HOOKS: request bodies refuse fields they do not know, so say so in the schema."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object" and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return result


def document_rate_limits(result, generator, request, public):
    """POSTPROCESSING_HOOKS: every operation that takes an API key may answer 429 with Retry-After; say so, with the
    limit this deployment applies."""
    rate = settings.API_RATE_LIMIT
    too_many = {
        "description": (
            f"Too many requests with this API key (this deployment allows {rate} per key). Wait the number of "
            "seconds in Retry-After, then retry."
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before the next request with this key.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {
                    "throttled": {
                        "value": {
                            "error": {
                                "code": "throttled",
                                "message": "This API key has made too many requests. Try again in 12 seconds.",
                                "fields": {},
                            }
                        }
                    }
                },
            }
        },
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation.setdefault("responses", {})["429"] = too_many
    info = result.setdefault("info", {})
    info["description"] = (
        f"{info.get('description', '')} Each API key may make {rate} requests; beyond that the API answers 429 with "
        "Retry-After."
    ).strip()
    return result
