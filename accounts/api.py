"""What every endpoint of the public API shares: API-key authentication, read-only viewer keys, the acting
organisation, and answers in JSON only. The endpoints themselves live in each app's api.py."""

import math

from django.utils.functional import cached_property
from django.utils.translation import ngettext
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from hiboo_connect.api.errors import ApiError
from hiboo_connect.api.parsers import JsonParser

from .actors import Actor
from .authentication import ApiKeyAuthentication, ApiKeyPermission
from .throttling import ApiKeyRateThrottle


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ApiKeyPermission]
    renderer_classes = [JSONRenderer]
    parser_classes = [JsonParser]
    throttle_classes = [ApiKeyRateThrottle]
    #: Field names used by the services (DomainError.field) → the names the API client sent.
    domain_field_names: dict[str, str] = {}

    @cached_property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.request.auth)

    @property
    def organisation(self):
        return self.request.auth.organisation

    def throttled(self, request, wait):
        seconds = max(math.ceil(wait or 1), 1)
        raise ApiError(
            status_code=429,
            code="throttled",
            message=ngettext(
                "This API key has made too many requests. Try again in %(seconds)d second.",
                "This API key has made too many requests. Try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            headers={"Retry-After": str(seconds)},
        )
