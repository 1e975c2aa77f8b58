"""Routes of the share centre's pages (the list itself is served at "/", see hiboo_connect/urls.py)."""

from django.urls import path

from . import views

app_name = "sharing"

urlpatterns = [
    path("export.csv", views.share_centre_export, name="export"),
    path("new/", views.sharing_create, name="create"),
    path("new/machines/", views.sharing_create_machines, name="create_machines"),
    path("new/overlaps/", views.sharing_create_overlaps, name="create_overlaps"),
    path("new/contacts/", views.contact_suggestions, name="contact_suggestions"),
    path("new/contacts/<uuid:contact_id>/", views.contact_pick, name="contact_pick"),
    path("notifications/failed/", views.notifications_failed, name="notifications_failed"),
    path("notifications/<uuid:notification_id>/retry/", views.notification_retry, name="notification_retry"),
    path("<uuid:sharing_id>/", views.sharing_detail, name="detail"),
    path("<uuid:sharing_id>/edit/", views.sharing_edit, name="edit"),
    path("<uuid:sharing_id>/stop/", views.sharing_stop, name="stop"),
    path("<uuid:sharing_id>/delete/", views.sharing_delete, name="delete"),
]
