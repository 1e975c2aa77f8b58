"""The ISO 15143-3 (AEMP 2.0) feed, under /api/aemp/v2/."""

from django.urls import path

from . import views

app_name = "aemp"

urlpatterns = [
    path("Fleet/<int:page>", views.FleetView.as_view(), name="fleet"),
    path("Fleet/Equipment/ID/<uuid:id>", views.EquipmentView.as_view(), name="equipment"),
    path(
        "Fleet/Equipment/ID/<uuid:id>/<str:element>/<str:start>/<str:end>/<int:page>",
        views.TimeSeriesView.as_view(),
        name="time-series",
    ),
]
