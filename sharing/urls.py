"""Routes of the share centre's pages (the list itself is served at "/", see hiboo_connect/urls.py)."""

from django.urls import path

from .views import contacts, create, notifications, sharing_page
from .views import share_centre as share_centre_pages

app_name = "sharing"

urlpatterns = [
    path("export.csv", share_centre_pages.share_centre_export, name="export"),
    path("new/", create.sharing_create, name="create"),
    path("new/machines/", create.sharing_create_machines, name="create_machines"),
    path("new/overlaps/", create.sharing_create_overlaps, name="create_overlaps"),
    path("new/contacts/", create.contact_suggestions, name="contact_suggestions"),
    path("new/contacts/<uuid:contact_id>/", create.contact_pick, name="contact_pick"),
    path("contacts/", contacts.contacts, name="contacts"),
    path("contacts/<uuid:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path("contacts/<uuid:contact_id>/remove/", contacts.contact_delete, name="contact_remove"),
    path("notifications/failed/", notifications.notifications_failed, name="notifications_failed"),
    path("notifications/<uuid:notification_id>/retry/", notifications.notification_retry, name="notification_retry"),
    path("<uuid:sharing_id>/", sharing_page.sharing_detail, name="detail"),
    path("<uuid:sharing_id>/edit/", sharing_page.sharing_edit, name="edit"),
    path("<uuid:sharing_id>/stop/", sharing_page.sharing_stop, name="stop"),
    path("<uuid:sharing_id>/delete/", sharing_page.sharing_delete, name="delete"),
    path("<uuid:sharing_id>/extension/", sharing_page.sharing_extension_request, name="extension_request"),
    path("extensions/<uuid:extension_id>/approve/", sharing_page.extension_approve, name="extension_approve"),
    path("extensions/<uuid:extension_id>/decline/", sharing_page.extension_decline, name="extension_decline"),
]
