"""Who may call the API: a live API key (401 otherwise); viewer keys only read (403 on writes)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiKey


class ApiKeyPermission(BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(
                _("Send an API key in the x-access-token header (or as Authorization: Bearer <key>).")
            )
        if request.method not in SAFE_METHODS and not request.auth.is_admin:
            raise exceptions.PermissionDenied(_("This API key is read only (viewer)."), code="read_only_key")
        return True
