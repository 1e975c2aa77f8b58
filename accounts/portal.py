"""What every page of the portal needs: a logged-in user of an organisation, the organisation's time zone active while
the page renders (dates are shown and typed in it), and domain refusals turned into 404 (not yours) and 403 (not
allowed)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from hiboo_connect.errors import NotAllowed, NotFound

from .actors import Actor


def organisation_page(view=None, *, admin: bool = False):
    """Decorate a view of the portal. Sets `request.organisation` and `request.actor`; `admin=True` answers 403 to
    members. Outsiders never get further than a 404: look-ups go through selectors, which raise NotFound."""

    def decorate(view_function):
        @login_required
        @wraps(view_function)
        def wrapper(request, *args, **kwargs):
            organisation = request.user.organisation
            if organisation is None:
                return render(request, "portal/no_organisation.html", status=403)
            if admin and not request.user.is_organisation_admin:
                raise PermissionDenied
            request.organisation = organisation
            request.actor = Actor.for_user(request.user)
            with timezone.override(organisation.timezone):
                try:
                    response = view_function(request, *args, **kwargs)
                except NotFound as error:
                    raise Http404(error.message) from None
                except NotAllowed as error:
                    raise PermissionDenied(error.message) from None
                # Render now, inside the organisation's time zone (a TemplateResponse would render after we leave it).
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
            return response

        return wrapper

    return decorate(view) if view is not None else decorate
