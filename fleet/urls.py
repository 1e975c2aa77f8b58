"""Routes of the fleet pages: machines (own and received) as a list and on a map, a machine's data page and its CSV
export, workspaces."""

from django.urls import path

from .views import fleet_list, fleet_map, machine_page
from .views import workspaces as workspace_pages

app_name = "fleet"

urlpatterns = [
    path("", fleet_list.machines, name="machines"),
    path("map/", fleet_map.fleet_map, name="map"),
    path("machines/<uuid:machine_id>/", machine_page.machine_detail, name="machine"),
    path("machines/<uuid:machine_id>/readings.csv", machine_page.machine_readings_export, name="machine_export"),
    path("own/<uuid:machine_id>/", fleet_list.own_machine_row, name="own_row"),
    path("own/<uuid:machine_id>/workspaces/", fleet_list.own_machine_workspaces, name="own_workspaces"),
    path("workspaces/", workspace_pages.workspaces, name="workspaces"),
    path("workspaces/new/", workspace_pages.workspace_create, name="workspace_create"),
    path("workspaces/<uuid:workspace_id>/rename/", workspace_pages.workspace_rename, name="workspace_rename"),
    path("workspaces/<uuid:workspace_id>/delete/", workspace_pages.workspace_delete, name="workspace_delete"),
]
