"""Authentication of the public API by an organisation's API key, in the `x-access-token` header or as
`Authorization: Bearer <key>`, and the permission every endpoint checks. The request's `auth` is the ApiKey; the acting
user is none (Actor.for_api_key)."""

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import ApiKey
from .services import api_key_authenticate

ACCESS_TOKEN_HEADER = "x-access-token"


def _token_from(request) -> str | None:
    token = request.headers.get(ACCESS_TOKEN_HEADER)
    if token:
        return token
    scheme, _separator, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        token = _token_from(request)
        if token is None:
            return None  # no key at all: the permission check answers 401
        api_key = api_key_authenticate(token=token)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("This API key is not valid or has been revoked."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return 'Bearer realm="api"'


class ApiKeyPermission(BasePermission):
    """Who may call the API: a live API key (401 otherwise); viewer keys only read (403 on writes)."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(
                _("Send an API key in the x-access-token header (or as Authorization: Bearer <key>).")
            )
        if request.method not in SAFE_METHODS and not request.auth.is_admin:
            raise exceptions.PermissionDenied(_("This API key is read only (viewer)."), code="read_only_key")
        return True
