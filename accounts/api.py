"""What every endpoint of the public API shares: API-key authentication, read-only viewer keys, the acting
organisation, and answers in JSON only. The endpoints themselves live in each app's api.py."""

from django.utils.functional import cached_property
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from .actors import Actor
from .authentication import ApiKeyAuthentication, ApiKeyPermission


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ApiKeyPermission]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    #: Field names used by the services (DomainError.field) → the names the API client sent.
    domain_field_names: dict[str, str] = {}

    @cached_property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.request.auth)

    @property
    def organisation(self):
        return self.request.auth.organisation
