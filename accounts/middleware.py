"""Sends a logged-in user who has no organisation yet (just signed up, or taken out of theirs) to name one: nothing
else of the portal makes sense without it."""

from django.shortcuts import redirect
from django.urls import Resolver404, resolve

#: Reachable without an organisation: the language switch, assets, the admin and the API (keys, not sessions)...
EXEMPT_PREFIXES = ("/i18n/", "/static/", "/admin/", "/api/")
#: ... naming the organisation and accepting a colleague invitation...
EXEMPT_VIEWS = {"accounts:organisation_create", "accounts:invitation_accept"}
#: ... and django-allauth's pages (logging out, confirming the e-mail, the password), all named `account_*`.
ALLAUTH_VIEW_PREFIX = "account_"


def _reachable_without_organisation(path: str) -> bool:
    if path.startswith(EXEMPT_PREFIXES):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # a 404 stays a 404
    return match.view_name in EXEMPT_VIEWS or (not match.namespace and match.view_name.startswith(ALLAUTH_VIEW_PREFIX))


class OrganisationRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.organisation_id is None
            and not _reachable_without_organisation(request.path_info)
        ):
            return redirect("accounts:organisation_create")
        return self.get_response(request)
