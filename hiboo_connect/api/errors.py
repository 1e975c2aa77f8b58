"""One error shape for the whole API: `{"error": {"code", "message", "fields"}}`.

Domain refusals (hiboo_connect.errors) map to their status by kind; DRF's own exceptions (validation, parsing,
authentication, permissions) to theirs, with field names as the client sent them (camelCase)."""

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from hiboo_connect.errors import DomainError

DOMAIN_STATUS = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
    "conflict": status.HTTP_409_CONFLICT,
    "precondition_failed": status.HTTP_412_PRECONDITION_FAILED,
}

DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


class ApiError(exceptions.APIException):
    """An answer of the API layer itself (an idempotency conflict, say), in the common error shape."""

    def __init__(self, *, status_code: int, code: str, message: str, headers: dict | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.headers = headers or {}


def _flatten(detail, prefix: str, into: dict) -> None:
    """DRF's nested error details as {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            _flatten(value, f"{prefix}.{name}" if prefix and name else (prefix or name), into)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, value in enumerate(detail):
            if value:
                _flatten(value, f"{prefix}.{index}" if prefix else str(index), into)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        into.setdefault(prefix, []).extend(str(message) for message in messages)


def _validation_error_body(exc: exceptions.ValidationError) -> dict:
    flat: dict[str, list[str]] = {}
    _flatten(exc.detail, "", flat)
    general = flat.pop("", [])
    summary = [*general, *(f"{field}: {messages[0]}" for field, messages in flat.items())]
    message = " ".join(summary) if summary else _("The request is not valid.")
    return error_body("invalid_input", message, flat)


def _detail_message(exc: exceptions.APIException) -> str:
    detail: Any = exc.detail
    if isinstance(detail, list) and detail:
        detail = detail[0]
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    return str(detail)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER. Returns None (a real server error) only for exceptions that are bugs."""
    view = context.get("view")
    if isinstance(exc, DomainError):
        field_names = getattr(view, "domain_field_names", {})
        fields: dict[str, list[str]] = {}
        for error in (exc, *exc.also):
            if error.field:
                fields.setdefault(field_names.get(error.field, camel_case(error.field)), []).append(error.message)
        return Response(error_body(exc.code, exc.message, fields), status=DOMAIN_STATUS.get(exc.kind, 400))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(max(math.ceil(exc.wait), 1))
    if isinstance(exc, ApiError):
        headers.update(exc.headers)
        body = error_body(exc.error_code, _detail_message(exc))
    elif isinstance(exc, exceptions.ValidationError):
        body = _validation_error_body(exc)
    else:
        code = next((code for cls, code in DRF_CODES.items() if isinstance(exc, cls)), None)
        if code is None or isinstance(exc, exceptions.PermissionDenied):
            # A code given where the exception was raised ("read_only_key") wins over the generic one.
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) and codes != "permission_denied" else (code or "error")
        body = error_body(code, _detail_message(exc))
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # an API client never has a CSRF cookie: it should learn the route is wrong, not about cookies
def api_not_found(request, *args, **kwargs):
    """Unknown routes under /api/ answer in JSON too."""
    return JsonResponse(error_body("not_found", _("There is no such API endpoint.")), status=404)
