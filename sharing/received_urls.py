"""Routes of the in-place editing of received machines, served under /fleet/received/ beside the fleet list they
belong to (see hiboo_connect/urls.py)."""

from django.urls import path

from . import received

app_name = "received"

urlpatterns = [
    path("<uuid:received_machine_id>/", received.received_machine_row, name="row"),
    path("<uuid:received_machine_id>/edit/", received.received_machine_edit, name="edit"),
]
