"""How the OpenAPI schema describes the feed's HTTP Basic authentication (the API key as the password)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BasicApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "aemp.authentication.BasicApiKeyAuthentication"
    name = "basicApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with an API key as the password (any user name), as AEMP clients send it.",
        }
