"""Routes of the public API, its schema and its docs. Anything else under /api/ answers a JSON 404."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from contracts.api import ContractDetailView, ContractImportTemplateView, ContractImportView, ContractListView
from events.api import (
    EventListView,
    WebhookDeliveryListView,
    WebhookDetailView,
    WebhookListView,
    WebhookRedeliverView,
    WebhookRotateSecretView,
)
from fleet.api import AssetListView, ReadingsPushView, WorkspaceListView
from sharing.api import (
    AssetReadingsView,
    ExtensionRequestApproveView,
    ExtensionRequestDeclineView,
    ExtensionRequestListView,
    ReceivedAssetDetailView,
    ReceivedAssetListView,
    SharingDetailView,
    SharingExtensionRequestsView,
    SharingListView,
    SharingStopView,
)
from telematics.api import TelematicsSourceDetailView, TelematicsSourceListView, TelematicsSourcePollView

from .errors import api_not_found
from .reference import api_docs

app_name = "api"

v1 = [
    path("sharings", SharingListView.as_view(), name="sharings"),
    path("sharings/<uuid:id>", SharingDetailView.as_view(), name="sharing"),
    path("sharings/<uuid:id>/stop", SharingStopView.as_view(), name="sharing-stop"),
    path(
        "sharings/<uuid:id>/extension-requests",
        SharingExtensionRequestsView.as_view(),
        name="sharing-extension-requests",
    ),
    path("extension-requests", ExtensionRequestListView.as_view(), name="extension-requests"),
    path(
        "extension-requests/<uuid:id>/approve", ExtensionRequestApproveView.as_view(), name="extension-request-approve"
    ),
    path(
        "extension-requests/<uuid:id>/decline", ExtensionRequestDeclineView.as_view(), name="extension-request-decline"
    ),
    path("assets", AssetListView.as_view(), name="assets"),
    path("assets/<uuid:id>/readings", AssetReadingsView.as_view(), name="asset-readings"),
    path("received-assets", ReceivedAssetListView.as_view(), name="received-assets"),
    path("received-assets/<uuid:id>", ReceivedAssetDetailView.as_view(), name="received-asset"),
    path("workspaces", WorkspaceListView.as_view(), name="workspaces"),
    path("readings", ReadingsPushView.as_view(), name="readings"),
    path("telematics-sources", TelematicsSourceListView.as_view(), name="telematics-sources"),
    path("telematics-sources/<uuid:id>", TelematicsSourceDetailView.as_view(), name="telematics-source"),
    path("telematics-sources/<uuid:id>/poll", TelematicsSourcePollView.as_view(), name="telematics-source-poll"),
    path("events", EventListView.as_view(), name="events"),
    path("contracts", ContractListView.as_view(), name="contracts"),
    # POST imports a file; GET, PUT and DELETE address the contract named "import", like any other reference.
    path("contracts/import", ContractImportView.as_view(), {"reference": "import"}, name="contracts-import"),
    # GET gives the CSV template (DESIGN §7); PUT and DELETE address the contract named "import/template".
    path(
        "contracts/import/template",
        ContractImportTemplateView.as_view(),
        {"reference": "import/template"},
        name="contracts-import-template",
    ),
    # A reference may hold slashes ("CTR/2026/0042"): the rest of the path is the reference.
    path("contracts/<path:reference>", ContractDetailView.as_view(), name="contract"),
    path("webhooks", WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<uuid:id>", WebhookDetailView.as_view(), name="webhook"),
    path("webhooks/<uuid:id>/rotate-secret", WebhookRotateSecretView.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<uuid:id>/deliveries", WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path("webhooks/<uuid:id>/redeliver", WebhookRedeliverView.as_view(), name="webhook-redeliver"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("aemp/v2/", include("aemp.urls")),
    # [\s\S], not ".": the catch-all must also match paths with a line break, or Django answers them in HTML.
    re_path(r"^[\s\S]*$", api_not_found),
]
