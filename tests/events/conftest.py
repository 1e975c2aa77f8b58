"""The API clients of tests/api, for the feed and webhook endpoints."""

from tests.api.conftest import admin_api, anonymous_api, beneficiary_api, outsider_api, viewer_api  # noqa: F401
