"""URL routes of the share centre."""

from django.contrib import admin
from django.urls import include, path

from sharing.views import share_centre

urlpatterns = [
    # The share centre for a logged-in user, the landing page for a visitor.
    path("", share_centre.home, name="home"),
    path("sharings/", include("sharing.urls")),
    path("contracts/", include("contracts.urls")),
    path("fleet/received/", include("sharing.received_urls")),
    path("fleet/", include("fleet.urls")),
    path("telematics/", include("telematics.urls")),
    path("accounts/", include("accounts.urls")),
    path("webhooks/", include("events.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include("hiboo_connect.api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

# The 403 and 404 pages are Django's views with templates/403.html and 404.html; the 500 page renders with the request.
handler500 = "hiboo_connect.error_pages.server_error"
