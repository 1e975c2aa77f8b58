"""Routes of the webhooks page."""

from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.webhooks, name="webhooks"),
    path("<uuid:endpoint_id>/", views.webhook, name="webhook"),
    path("<uuid:endpoint_id>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("<uuid:endpoint_id>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("<uuid:endpoint_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("<uuid:endpoint_id>/redeliver/", views.webhook_redeliver, name="webhook_redeliver"),
]
