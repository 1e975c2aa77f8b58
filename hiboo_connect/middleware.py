"""What every response of the share centre carries beyond the view's own answer."""

from django.utils.cache import patch_cache_control


class PrivateResponsesMiddleware:
    """`Cache-Control: no-store` on everything that answers someone in particular: every page of a logged-in user
    (their organisation's data, the CSV exports, the page that shows a new API key once) and every API response, so
    neither a shared proxy nor the browser's back button or disk keeps a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        answers_the_api = match is not None and "api" in match.namespaces
        if answers_the_api or request.user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
