"""The OpenAPI schema and the browsable docs: public, complete, and served by the app itself (no CDN, strict CSP)."""

import re

from django.contrib.staticfiles import finders
from django.test import Client

OPERATIONS = {
    ("/api/v1/sharings", "get"),
    ("/api/v1/sharings", "post"),
    ("/api/v1/sharings/{id}", "get"),
    ("/api/v1/sharings/{id}", "patch"),
    ("/api/v1/sharings/{id}", "delete"),
    ("/api/v1/sharings/{id}/stop", "post"),
    ("/api/v1/assets", "get"),
    ("/api/v1/assets/{id}/readings", "get"),
    ("/api/v1/received-assets", "get"),
    ("/api/v1/received-assets/{id}", "get"),
    ("/api/v1/received-assets/{id}", "patch"),
    ("/api/v1/workspaces", "get"),
    ("/api/v1/readings", "post"),
    ("/api/v1/telematics-sources", "get"),
    ("/api/v1/telematics-sources", "post"),
    ("/api/v1/telematics-sources/{id}", "get"),
    ("/api/v1/telematics-sources/{id}", "patch"),
    ("/api/v1/telematics-sources/{id}", "delete"),
    ("/api/v1/telematics-sources/{id}/poll", "post"),
    ("/api/v1/events", "get"),
}


def _schema():
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_describes_every_operation_with_its_security_and_errors(db):
    schema = _schema()

    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == OPERATIONS
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["accessToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-access-token",
        "description": schema["components"]["securitySchemes"]["accessToken"]["description"],
    }
    for path, method in OPERATIONS:
        operation = schema["paths"][path][method]
        assert {"accessToken": []} in operation["security"], (path, method)
        assert "401" in operation["responses"], (path, method)
        if method != "get":
            assert "403" in operation["responses"], (path, method)
            assert "422" in operation["responses"], (path, method)
            assert any(parameter["name"] == "Idempotency-Key" for parameter in operation["parameters"]), (path, method)


def test_the_schema_has_examples_and_refuses_unknown_fields(db):
    schema = _schema()

    create = schema["paths"]["/api/v1/sharings"]["post"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    assert schema["components"]["schemas"]["SharingCreateRequest"]["additionalProperties"] is False
    listing = schema["paths"]["/api/v1/sharings"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["examples"]
    names = {parameter["name"] for parameter in schema["paths"]["/api/v1/sharings"]["get"]["parameters"]}
    assert {"offset", "limit", "reference", "status", "assetId", "recipient", "direction"} <= names


def test_the_docs_are_served_by_the_app_without_a_cdn_or_inline_code(db):
    response = Client().get("/api/v1/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page), "every asset comes from the app"
    assert "<style" not in page
    assert all(' src="' in tag for tag in re.findall(r"<script[^>]*>", page)), "no inline script"
    for asset in re.findall(r"/static/([^\"?]+)", page):
        assert finders.find(asset), asset
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "script-src 'self'" in policy


def test_the_docs_script_is_served_separately(db):
    response = Client().get("/api/v1/docs/", {"script": ""})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in response.content.decode()
