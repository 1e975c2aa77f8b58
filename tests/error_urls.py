"""The project's URLs plus one view that fails, for the 500 page's tests."""

from django.urls import path

from hiboo_connect.urls import handler500
from hiboo_connect.urls import urlpatterns as project_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [*project_urlpatterns, path("broken/", broken)]
__all__ = ["handler500", "urlpatterns"]
