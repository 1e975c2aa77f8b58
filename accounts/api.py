"""The public API of the organisation's workspaces: the ids to place received assets in."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from hiboo_connect.api import schema as api_schema
from hiboo_connect.api.pagination import page_body, page_envelope, page_from, page_parameters
from hiboo_connect.api.views import ApiView

from .selectors import workspaces_of

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class WorkspaceListView(ApiView):
    @extend_schema(
        operation_id="workspaces_list",
        tags=["workspaces"],
        summary="List your workspaces",
        description="Your organisation's workspaces (sites, depots, regions), to group received assets.",
        parameters=page_parameters(default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT),
        responses={200: OpenApiResponse(page_envelope("Workspace", WorkspaceSerializer)), **api_schema.READ_ERRORS},
    )
    def get(self, request):
        page = page_from(request, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
        workspaces = workspaces_of(self.organisation).order_by("name", "pk")
        return Response(page_body(workspaces, page, lambda rows: WorkspaceSerializer(rows, many=True).data))
