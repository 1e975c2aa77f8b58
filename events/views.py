"""The webhooks page of the portal, for admins: the organisation's endpoints, a new one (its secret shown once),
and per endpoint its recent deliveries, a new secret, disable / enable, delete, and sending failed deliveries again."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.portal import organisation_page
from hiboo_connect import pages
from outbox.models import MessageStatus

from . import selectors, services
from .forms import WebhookEndpointForm
from .models import DisabledReason


def _list_page(request, *, form=None, new_secret=None, status=200):
    context = {
        "nav": "webhooks",
        "endpoints": selectors.webhook_endpoints_of(request.organisation).order_by("created_at", "pk"),
        "form": form or WebhookEndpointForm(),
        "new_secret": new_secret,
    }
    return pages.render_page(request, "events/webhooks.html", context, fragment="#endpoints", status=status)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def webhooks(request):
    """GET lists the endpoints; POST registers one and shows its secret this once (rendered, never kept)."""
    if request.method != "POST":
        return _list_page(request)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        with pages.refusal(form) as refused:
            endpoint, secret = services.webhook_endpoint_create(
                actor=request.actor,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        if not refused:
            return _list_page(request, new_secret={"endpoint": endpoint, "secret": secret}, status=201)
    return _list_page(request, form=form, status=400)


def _endpoint_page(request, endpoint, *, new_secret=None, error=None, status=200):
    deliveries = selectors.webhook_deliveries_of(endpoint)
    context = {
        "nav": "webhooks",
        "endpoint": endpoint,
        "deliveries": deliveries,
        "failed_count": sum(1 for delivery in deliveries if delivery.status == MessageStatus.FAILED),
        "new_secret": new_secret,
        "action_error": error,
        "secrets": len(endpoint.secrets_at(timezone.now())),
        "reason": DisabledReason(endpoint.disabled_reason).label if endpoint.disabled_reason else "",
    }
    return pages.render_page(request, "events/webhook.html", context, fragment="#deliveries", status=status)


def _endpoint(request, endpoint_id):
    return selectors.webhook_endpoint_get(organisation=request.organisation, endpoint_id=endpoint_id)


@organisation_page(admin=True)
@require_http_methods(["GET"])
def webhook(request, endpoint_id):
    return _endpoint_page(request, _endpoint(request, endpoint_id))


@require_POST
@organisation_page(admin=True)
def webhook_rotate(request, endpoint_id):
    endpoint, secret = services.webhook_endpoint_rotate_secret(
        actor=request.actor, endpoint=_endpoint(request, endpoint_id)
    )
    return _endpoint_page(request, endpoint, new_secret=secret)


@require_POST
@organisation_page(admin=True)
def webhook_toggle(request, endpoint_id):
    endpoint = _endpoint(request, endpoint_id)
    endpoint = services.webhook_endpoint_update(
        actor=request.actor, endpoint=endpoint, changes={"enabled": not endpoint.enabled}
    )
    messages.success(request, _("The endpoint is enabled.") if endpoint.enabled else _("The endpoint is disabled."))
    return redirect("events:webhook", endpoint_id=endpoint.pk)


@require_POST
@organisation_page(admin=True)
def webhook_delete(request, endpoint_id):
    endpoint = _endpoint(request, endpoint_id)
    services.webhook_endpoint_delete(actor=request.actor, endpoint=endpoint)
    messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("events:webhooks")


@require_POST
@organisation_page(admin=True)
def webhook_redeliver(request, endpoint_id):
    """Send failed deliveries again: the one named by `delivery`, or every failed one."""
    endpoint = _endpoint(request, endpoint_id)
    delivery_id = request.POST.get("delivery") or None
    delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id) if delivery_id else None
    with pages.refusal() as refused:
        count = services.webhook_deliveries_retry(actor=request.actor, endpoint=endpoint, delivery=delivery)
    if refused:
        return _endpoint_page(request, endpoint, error=refused.message, status=409)
    messages.success(
        request,
        ngettext("%(count)d delivery sent again.", "%(count)d deliveries sent again.", count) % {"count": count},
    )
    return redirect("events:webhook", endpoint_id=endpoint.pk)
