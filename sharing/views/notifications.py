"""The organisation's e-mails that could not be sent, for its admins to send again."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.portal import organisation_page
from hiboo_connect import pages

from .. import selectors, services

NOTIFICATIONS_PER_PAGE = 50
FAILED_PAGE = "sharing/notifications_failed.html"
NOTIFICATION_ROW = "#notification_row"


@organisation_page(admin=True)
@require_GET
def notifications_failed(request):
    """The organisation's e-mails that could not be sent, for its admins to send again."""
    page = Paginator(selectors.notifications_failed(request.organisation), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "share_centre", "page_obj": page, "notifications": page.object_list}
    return render(request, FAILED_PAGE, context)


@organisation_page(admin=True)
@require_POST
def notification_retry(request, notification_id):
    """Send a failed notification again; htmx swaps its row for one saying it is queued."""
    notification = selectors.notification_get(organisation=request.organisation, notification_id=notification_id)
    with pages.refusal() as refused:
        notification = services.notification_retry(actor=request.actor, notification=notification)
    if refused:
        if not pages.fragment_requested(request):
            messages.error(request, refused.message)
            return redirect("sharing:notifications_failed")
        context = {"notification": notification, "retry_error": refused.message}
        return pages.render_page(request, FAILED_PAGE, context, fragment=NOTIFICATION_ROW, status=409)
    if not pages.fragment_requested(request):
        messages.success(request, _("The e-mail to %(email)s will be sent again.") % {"email": notification.recipient})
        return redirect("sharing:notifications_failed")
    return pages.render_page(request, FAILED_PAGE, {"notification": notification}, fragment=NOTIFICATION_ROW)
