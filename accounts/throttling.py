"""The API's rate limit: each API key may make settings.API_RATE_LIMIT requests, counted in the shared cache so
every web process sees the same count. With that cache down the count is lost and nobody is limited."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        # Read on every request, not once at import as DRF's THROTTLE_RATES are.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None  # no valid key: authentication has refused the request already
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
