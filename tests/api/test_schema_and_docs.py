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
    ("/api/v1/sharings/{id}/extension-requests", "post"),
    ("/api/v1/extension-requests", "get"),
    ("/api/v1/extension-requests/{id}/approve", "post"),
    ("/api/v1/extension-requests/{id}/decline", "post"),
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
    ("/api/v1/contracts", "get"),
    ("/api/v1/contracts/{reference}", "get"),
    ("/api/v1/contracts/{reference}", "put"),
    ("/api/v1/contracts/{reference}", "delete"),
    ("/api/v1/contracts/import", "post"),
    ("/api/v1/contracts/import/template", "get"),
    # The contracts named "import" and "import/template", whose paths are those of the import and its template.
    ("/api/v1/contracts/import", "get"),
    ("/api/v1/contracts/import", "put"),
    ("/api/v1/contracts/import", "delete"),
    ("/api/v1/contracts/import/template", "put"),
    ("/api/v1/contracts/import/template", "delete"),
    ("/api/aemp/v2/Fleet/{page}", "get"),
    ("/api/aemp/v2/Fleet/Equipment/ID/{id}", "get"),
    ("/api/aemp/v2/Fleet/Equipment/ID/{id}/{element}/{start}/{end}/{page}", "get"),
    ("/api/v1/webhooks", "get"),
    ("/api/v1/webhooks", "post"),
    ("/api/v1/webhooks/{id}", "get"),
    ("/api/v1/webhooks/{id}", "patch"),
    ("/api/v1/webhooks/{id}", "delete"),
    ("/api/v1/webhooks/{id}/rotate-secret", "post"),
    ("/api/v1/webhooks/{id}/deliveries", "get"),
    ("/api/v1/webhooks/{id}/redeliver", "post"),
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
    assert {"offset", "limit", "reference", "status", "assetId", "recipient", "direction", "contract"} <= names

    apply = schema["paths"]["/api/v1/contracts/{reference}"]["put"]
    assert apply["requestBody"]["content"]["application/json"]["examples"]
    assert schema["components"]["schemas"]["ContractPutRequest"]["additionalProperties"] is False
    assert schema["components"]["schemas"]["ContractLineRequest"]["additionalProperties"] is False
    assert {"200", "201", "409", "412"} <= set(apply["responses"])
    assert {"dryRun", "onConflict", "If-Match", "Idempotency-Key"} <= {p["name"] for p in apply["parameters"]}


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


def test_the_docs_show_every_operation_of_the_schema_in_the_portal_layout(db):
    schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    response = Client().get("/api/v1/docs/")

    page = response.content.decode()
    assert '<html lang="en">' in page
    assert 'href="/"' in page, "a way back to the portal"
    assert 'href="/api/v1/schema/"' in page
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert f'id="{operation["operationId"]}"' in page, (method, path)
            assert f"<code>{path}</code>" in page
    # The request body of a create, field by field, its required ones marked, with an example.
    assert '<code>assetIds</code> <span class="badge badge-plain">required</span>' in page
    assert "array of string (uuid)" in page
    assert "one of: essential" in page
    assert "CONTRACT-2026-0042" in page


def test_the_docs_in_french_keep_the_api_s_english_marked_as_such(db):
    client = Client(headers={"accept-language": "fr"})
    page = client.get("/api/v1/docs/").content.decode()

    assert '<html lang="fr">' in page
    assert "Référence de l’API" in page
    assert '<p lang="en"><strong>Create a sharing</strong></p>' in page


def test_the_api_keys_page_links_to_the_docs(client, owner_admin):
    client.force_login(owner_admin)

    assert 'href="/api/v1/docs/"' in client.get("/accounts/api-keys/").content.decode()
