"""The contacts page (DESIGN §2: admins list, edit and remove the address book of recipients): a search, each
contact's name and organisation, the sharings sent to it. The address book is accounts' (its services write and audit
it); the sharings of each contact are this layer's, which is why the page lives here."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import ContactForm
from accounts.portal import organisation_page
from accounts.selectors import contact_get, contacts_matching
from accounts.services import contact_remove, contact_update
from hiboo_connect import pages

from .. import selectors

CONTACTS_PER_PAGE = 50


@organisation_page(admin=True)
@require_http_methods(["GET"])
def contacts(request):
    organisation = request.organisation
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    page = Paginator(contacts_matching(organisation=organisation, query=query), CONTACTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    contacts_shown = list(page.object_list)
    sharings = selectors.sharings_by_recipient(
        organisation=organisation, emails=[contact.email for contact in contacts_shown]
    )
    rows = [{"contact": contact, "sharings": sharings.get(contact.email)} for contact in contacts_shown]
    context = {"nav": "contacts", "rows": rows, "page_obj": page, "query": query}
    return render(request, "sharing/contacts.html", context)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request, contact_id):
    contact = contact_get(organisation=request.organisation, contact_id=contact_id)
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            contact_update(actor=request.actor, contact=contact, **form.cleaned_data)
            messages.success(request, _("%(email)s is up to date.") % {"email": contact.email})
            return redirect("sharing:contacts")
        status = 400
    else:
        form = ContactForm(initial={"name": contact.name, "organisation_name": contact.organisation_name})
        status = 200
    context = {"nav": "contacts", "contact": contact, "form": form}
    return render(request, "sharing/contact_edit.html", context, status=status)


@organisation_page(admin=True)
@require_http_methods(["GET", "POST"])
def contact_delete(request, contact_id):
    """GET asks for a confirmation, saying what happens to the sharings sent to the contact; POST removes it."""
    organisation = request.organisation
    contact = contact_get(organisation=organisation, contact_id=contact_id)

    def confirm():
        sharings = selectors.sharings_by_recipient(organisation=organisation, emails=[contact.email])
        recipient = sharings.get(contact.email)
        context = {"nav": "contacts", "contact": contact, "sharing_count": recipient.total if recipient else 0}
        return render(request, "sharing/contact_remove.html", context)

    def removed():
        messages.success(request, _("%(email)s is no longer in your contacts.") % {"email": contact.email})
        return redirect("sharing:contacts")

    return pages.confirm_then_act(
        request, confirm=confirm, act=lambda: contact_remove(actor=request.actor, contact=contact), done=removed
    )
