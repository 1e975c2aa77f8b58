"""The API clients of tests/api, for the sharing tests that read through the API too."""

from tests.api.conftest import admin_api, beneficiary_api  # noqa: F401
