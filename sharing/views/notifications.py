"""The organisation's e-mails that could not be sent, for its admins to send again."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.portal import organisation_page
from hiboo_connect.errors import DomainError, NotAllowed

from .. import selectors, services

NOTIFICATIONS_PER_PAGE = 50


@organisation_page(admin=True)
@require_GET
def notifications_failed(request):
    """The organisation's e-mails that could not be sent, for its admins to send again."""
    page = Paginator(selectors.notifications_failed(request.organisation), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "share_centre", "page_obj": page, "notifications": page.object_list}
    return render(request, "sharing/notifications_failed.html", context)


@organisation_page(admin=True)
@require_POST
def notification_retry(request, notification_id):
    """Send a failed notification again; htmx swaps its row for one saying it is queued."""
    notification = selectors.notification_get(organisation=request.organisation, notification_id=notification_id)
    try:
        notification = services.notification_retry(actor=request.actor, notification=notification)
    except NotAllowed:
        raise
    except DomainError as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect("sharing:notifications_failed")
        context = {"notification": notification, "retry_error": error.message}
        return render(request, "sharing/notifications_failed.html#notification_row", context, status=409)
    if not request.htmx:
        messages.success(request, _("The e-mail to %(email)s will be sent again.") % {"email": notification.recipient})
        return redirect("sharing:notifications_failed")
    return render(request, "sharing/notifications_failed.html#notification_row", {"notification": notification})
