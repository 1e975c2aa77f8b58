"""Routes of the telematics sources pages."""

from django.urls import path

from . import views

app_name = "telematics"

urlpatterns = [
    path("", views.sources, name="sources"),
    path("new/", views.source_create, name="source_create"),
    path("<uuid:source_id>/", views.source_edit, name="source_edit"),
    path("<uuid:source_id>/delete/", views.source_delete, name="source_delete"),
    path("<uuid:source_id>/poll/", views.source_poll, name="source_poll"),
]
