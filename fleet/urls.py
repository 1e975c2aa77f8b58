"""Routes of the fleet pages: machines (own and received), a machine's data page and its CSV export, workspaces."""

from django.urls import path

from . import views

app_name = "fleet"

urlpatterns = [
    path("", views.machines, name="machines"),
    path("machines/<uuid:machine_id>/", views.machine_detail, name="machine"),
    path("machines/<uuid:machine_id>/readings.csv", views.machine_readings_export, name="machine_export"),
    path("received/<uuid:received_machine_id>/", views.received_machine_row, name="received_row"),
    path("received/<uuid:received_machine_id>/edit/", views.received_machine_edit, name="received_edit"),
    path("own/<uuid:machine_id>/", views.own_machine_row, name="own_row"),
    path("own/<uuid:machine_id>/workspaces/", views.own_machine_workspaces, name="own_workspaces"),
    path("workspaces/", views.workspaces, name="workspaces"),
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("workspaces/<uuid:workspace_id>/rename/", views.workspace_rename, name="workspace_rename"),
    path("workspaces/<uuid:workspace_id>/delete/", views.workspace_delete, name="workspace_delete"),
]
