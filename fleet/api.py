"""The public API of the organisation's own assets (DESIGN §6): the ids to use in a sharing's assetIds; and its
workspaces, the ids to place received assets in."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api import ApiView
from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.fields import InstantField
from hiboo_connect.api.pagination import page_body, page_envelope, page_from, page_parameters

from .models import MachineCategory
from .selectors import machines_owned_by, workspaces_of

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class WorkspaceReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class AssetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    make = serializers.CharField()
    model = serializers.CharField()
    serialNumber = serializers.CharField(source="serial_number")
    category = serializers.ChoiceField(MachineCategory.choices)
    year = serializers.IntegerField(allow_null=True)
    pin = serializers.CharField(help_text="PIN / VIN; may be empty.")
    workspaces = WorkspaceReferenceSerializer(many=True, source="workspaces.all")
    createdAt = InstantField(source="created_at")


ASSET_EXAMPLE = {
    "id": "0b6f3d5e-3c1a-4d8e-a1f2-7c9e0d4b2a61",
    "make": "Caterpillar",
    "model": "320 GC",
    "serialNumber": "CAT0320GCXYZ01234",
    "category": "excavator",
    "year": 2022,
    "pin": "",
    "workspaces": [{"id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "name": "Lyon depot"}],
    "createdAt": "2026-01-05T08:00:00Z",
}


class AssetListView(ApiView):
    @extend_schema(
        operation_id="assets_list",
        tags=["assets"],
        summary="List your assets",
        description="Your organisation's own machines: the ids to put in assetIds. Received assets are not here.",
        parameters=page_parameters(default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT),
        responses={
            200: OpenApiResponse(
                page_envelope("Asset", AssetSerializer),
                examples=[OpenApiExample("A page", value={"data": {"total": 1, "rows": [ASSET_EXAMPLE]}})],
            ),
            **api_schema.READ_ERRORS,
        },
    )
    def get(self, request):
        page = page_from(request, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
        machines = (
            machines_owned_by(self.organisation)
            .prefetch_related("workspaces")
            .order_by("make", "model", "serial_number", "pk")
        )
        return Response(page_body(machines, page, lambda rows: AssetSerializer(rows, many=True).data))


WORKSPACES_DEFAULT_LIMIT, WORKSPACES_MAX_LIMIT = 100, 500


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class WorkspaceListView(ApiView):
    @extend_schema(
        operation_id="workspaces_list",
        tags=["workspaces"],
        summary="List your workspaces",
        description="Your organisation's workspaces (sites, depots, regions), to group received assets.",
        parameters=page_parameters(default_limit=WORKSPACES_DEFAULT_LIMIT, max_limit=WORKSPACES_MAX_LIMIT),
        responses={200: OpenApiResponse(page_envelope("Workspace", WorkspaceSerializer)), **api_schema.READ_ERRORS},
    )
    def get(self, request):
        page = page_from(request, default_limit=WORKSPACES_DEFAULT_LIMIT, max_limit=WORKSPACES_MAX_LIMIT)
        workspaces = workspaces_of(self.organisation).order_by("name", "pk")
        return Response(page_body(workspaces, page, lambda rows: WorkspaceSerializer(rows, many=True).data))
