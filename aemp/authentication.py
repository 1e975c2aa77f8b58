"""How an AEMP client authenticates to the feed: the API's key headers, or HTTP Basic with the API key as the
password (many ISO 15143-3 consumers only do Basic; the user name is not checked). A 401 asks for Basic."""

import base64
import binascii

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.authentication import ApiKeyPermission
from accounts.models import ApiKey
from accounts.services import api_key_authenticate

REALM = "ISO 15143-3 feed"


class BasicApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        scheme, _separator, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None  # another scheme (the API key headers are tried next)
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise exceptions.AuthenticationFailed(_("The Basic credentials are not valid base64.")) from None
        _username, _colon, password = decoded.partition(":")
        api_key = api_key_authenticate(token=password) if password else None
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("This API key is not valid or has been revoked."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request):
        return f'Basic realm="{REALM}"'


class FeedPermission(ApiKeyPermission):
    """A live API key, viewer or admin (the feed only reads)."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(
                _("Send an API key as the password of HTTP Basic authentication, or in the x-access-token header.")
            )
        return super().has_permission(request, view)
