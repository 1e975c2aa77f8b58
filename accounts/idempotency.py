"""Safe retries of API writes with an `Idempotency-Key` header.

The key is claimed (a unique row per API key) before the write runs, so two concurrent requests with one key never
both execute; the write and its stored response commit together. A retry with the same key and the same request gets
the stored response back and changes nothing; the same key with another request is refused (422)."""

import hashlib
import json
import re
import time

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from hiboo_connect.api.errors import ApiError

from .models import IdempotencyState
from .services import (
    IDEMPOTENCY_RETENTION,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: How long a request waits for a concurrent one with the same key before answering 409.
WAIT_FOR_CONCURRENT = 3.0
POLL_INTERVAL = 0.05
#: Visible ASCII, no spaces: what any client library sends unchanged.
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER,
    description=(
        "Any unique text (a UUID, say) that identifies this write. A retry with the same key and the same body "
        f"returns the first response and changes nothing; keys are kept {IDEMPOTENCY_RETENTION.days * 24} hours "
        "and belong to the API key that used them."
    ),
)


def _fingerprint(request) -> str:
    """The method, path and body of a request; JSON bodies compare by content, not by spacing or key order."""
    raw = request._request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        body = raw  # not JSON (or nested past the stack): compared as sent; the parser refuses it anyway
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise ApiError(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid_idempotency_key",
            message=_("The Idempotency-Key header must be 1 to %d visible ASCII characters, without spaces.")
            % MAX_KEY_LENGTH,
        )
    return key


def _replay(record) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotently(view, request, execute) -> Response:
    """Run `execute()` (which returns a Response) at most once per Idempotency-Key, or right away without one."""
    key = _key_from(request)
    if key is None:
        return execute()
    api_key = request.auth
    fingerprint = _fingerprint(request)
    deadline = time.monotonic() + WAIT_FOR_CONCURRENT
    while True:
        claim = idempotency_claim(api_key=api_key, key=key, fingerprint=fingerprint)
        record = claim.record
        if claim.claimed:
            break
        if record.fingerprint != fingerprint:
            raise ApiError(
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                code="idempotency_key_reused",
                message=_(
                    "This Idempotency-Key was already used for another request. Use a new key for a new request."
                ),
            )
        if record.state == IdempotencyState.DONE:
            return _replay(record)
        if time.monotonic() >= deadline:
            raise ApiError(
                status_code=status.HTTP_409_CONFLICT,
                code="idempotency_key_in_progress",
                message=_("A request with this Idempotency-Key is still being processed. Retry in a moment."),
                headers={"Retry-After": "1"},
            )
        time.sleep(POLL_INTERVAL)

    try:
        with transaction.atomic():
            response = execute()
            if response.status_code < 500:
                idempotency_complete(record=record, status=response.status_code, body=response.data)
        if response.status_code >= 500:
            idempotency_release(record=record)
        return response
    except Exception as exc:
        try:
            response = view.handle_exception(exc)
        except Exception:
            idempotency_release(record=record)
            raise
        if response.status_code < 500:
            # A refusal is an answer too: the same request retried gets the same refusal.
            idempotency_complete(record=record, status=response.status_code, body=response.data)
        else:
            idempotency_release(record=record)
        return response
