"""The portal's answers when something goes wrong: the 500 page rendered like every other page (in the visitor's
language, inside the layout), and the log filter that keeps a refusal (403, 404) to one line. The 403 and 404 pages are
Django's own views with the project's templates (templates/403.html, 404.html)."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults


def server_error(request: HttpRequest) -> HttpResponse:
    """templates/500.html with the request, so the page speaks the visitor's language and shows the layout. If that
    fails too (the database is what broke, say), Django's own context-free rendering, then its bare text."""
    try:
        return HttpResponseServerError(loader.render_to_string("500.html", request=request))
    except Exception:  # an error page must answer whatever broke
        return defaults.server_error(request)


class RefusalsWithoutTraceback(logging.Filter):
    """django.request logs a refusal it answered (403 Forbidden, 404) with the exception's traceback: for an expected
    answer to a user's request that is noise in the log. The line stays; the traceback goes. Server errors keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
