"""Routes of the fleet pages: machines (own and received) and workspaces."""

from django.urls import path

from . import views

app_name = "fleet"

urlpatterns = [
    path("", views.machines, name="machines"),
    path("received/<uuid:received_machine_id>/", views.received_machine_row, name="received_row"),
    path("received/<uuid:received_machine_id>/edit/", views.received_machine_edit, name="received_edit"),
    path("workspaces/", views.workspaces, name="workspaces"),
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("workspaces/<uuid:workspace_id>/rename/", views.workspace_rename, name="workspace_rename"),
    path("workspaces/<uuid:workspace_id>/delete/", views.workspace_delete, name="workspace_delete"),
]
