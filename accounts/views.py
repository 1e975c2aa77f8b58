"""The accounts pages of the portal: naming one's organisation after sign-up, its settings, its members and the
colleague invitations, its API keys. Views stay thin: forms check shapes, services and selectors decide, domain
refusals are shown next to their fields (or answer 403/404 through `organisation_page`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hiboo_connect import pages
from hiboo_connect.errors import DomainError, InvalidInput, RuleConflict

from .adapter import INVITATION_SESSION_KEY
from .forms import ApiKeyForm, ColleagueInviteForm, MemberRoleForm, OrganisationForm, OrganisationSettingsForm
from .hooks import pending_invitations_for
from .models import Language, Organisation, Role
from .portal import organisation_page
from .selectors import (
    api_key_get,
    api_keys_of,
    colleague_invitation_by_token,
    colleague_invitation_get,
    colleague_invitations_open_for,
    colleague_invitations_pending,
    member_get,
    members_of,
    user_exists_with_email,
)
from .services import (
    api_key_create,
    api_key_revoke,
    colleague_invitation_accept,
    colleague_invitation_refusal,
    colleague_invitation_revoke,
    colleague_invite,
    member_remove,
    member_role_change,
    organisation_create_at_signup,
    organisation_update,
)

# --- naming the organisation after sign-up ---------------------------------------------------------------------------


@login_required
def organisation_create(request):
    """A user without an organisation names theirs and becomes its admin; pending sharings addressed to them attach.
    The form starts with what the sender of a sharing typed as their organisation's name."""
    user = request.user
    if user.organisation_id is not None:
        return redirect("home")
    pending = pending_invitations_for(user.email)
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            with pages.refusal(form) as refused:
                organisation = organisation_create_at_signup(user=user, **form.cleaned_data)
            if not refused:
                messages.success(request, _("Welcome to the share centre, %(name)s.") % {"name": organisation.name})
                return redirect("home")
    else:
        typed_names = [invitation.organisation_name for invitation in pending]
        current_language = (get_language() or "")[:2]
        form = OrganisationForm(
            initial={
                "name": next((name for name in typed_names if name), ""),
                # The sender's organisation is usually on the same site: its time zone is the best first guess.
                "timezone": pending[0].sender_timezone if pending else Organisation._meta.get_field("timezone").default,
                "language": current_language if current_language in Language.values else Language.ENGLISH,
            }
        )
    senders = sorted({invitation.sender_name for invitation in pending})
    invitations = list(colleague_invitations_open_for(email=user.email, now=timezone.now()))
    return render(
        request,
        "accounts/organisation_create.html",
        {"form": form, "senders": senders, "pending_count": len(pending), "invitations": invitations},
    )


# --- colleague invitations: the link in the e-mail --------------------------------------------------------------------


def invitation_accept(request, token):
    """Where the invitation e-mail leads. A visitor is asked to sign up with the invited e-mail (the invitation is
    kept in the session, so the sign-up joins the organisation), or to log in when that e-mail already has an account
    (one without an organisation: a member taken out of theirs); a logged-in user without an organisation joins it
    with one click; anyone else is told why they cannot."""
    invitation = colleague_invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation.html", {"invitation": None}, status=404)
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    refusal = colleague_invitation_refusal(invitation=invitation, user=user, now=now)
    if request.method == "POST" and user is not None and refusal is None:
        try:
            colleague_invitation_accept(invitation=invitation, user=user)
        except DomainError as error:
            refusal = error
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(
                request, _("You joined %(organisation)s.") % {"organisation": invitation.organisation.name}
            )
            return redirect("home")
    has_account = False
    if user is None and refusal is None:
        request.session[INVITATION_SESSION_KEY] = invitation.token
        has_account = user_exists_with_email(invitation.email)
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "refusal": refusal,
            "role": invitation.get_role_display(),
            "has_account": has_account,
        },
    )


# --- organisation settings -------------------------------------------------------------------------------------------


@organisation_page
def organisation_settings(request):
    organisation = request.organisation
    if request.method == "POST":
        request.actor.require_admin_of(organisation)  # members read the settings; only admins change them (403)
        form = OrganisationSettingsForm(request.POST)
        if form.is_valid():
            with pages.refusal(form) as refused:
                organisation_update(actor=request.actor, organisation=organisation, **form.cleaned_data)
            if not refused:
                messages.success(request, _("The organisation's settings are saved."))
                return redirect("accounts:organisation_settings")
    else:
        form = OrganisationSettingsForm(
            initial={
                "name": organisation.name,
                "timezone": organisation.timezone,
                "language": organisation.language,
                "reminder_days": organisation.reminder_days or "",
            }
        )
    if not request.actor.is_admin:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "accounts/organisation_settings.html",
        {"nav": "settings", "form": form, "organisation": organisation, "is_admin": request.actor.is_admin},
    )


# --- members and their invitations -----------------------------------------------------------------------------------


def _members_page(request, *, invite_form=None, row_errors=None):
    organisation = request.organisation
    row_errors = row_errors or {}
    rows = [{"member": member, "error": row_errors.get(member.pk)} for member in members_of(organisation)]
    return render(
        request,
        "accounts/members.html",
        {
            "nav": "members",
            "organisation": organisation,
            "is_admin": request.actor.is_admin,
            "rows": rows,
            "invitations": colleague_invitations_pending(organisation),
            "invite_form": invite_form or ColleagueInviteForm(),
            "role_choices": Role.choices,
            "now": timezone.now(),
        },
    )


@organisation_page
def members(request):
    return _members_page(request)


@require_POST
@organisation_page(admin=True)
def colleague_invite_create(request):
    form = ColleagueInviteForm(request.POST)
    if form.is_valid():
        with pages.refusal(form) as refused:
            invitation = colleague_invite(actor=request.actor, **form.cleaned_data)
        if not refused:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("accounts:members")
    return _members_page(request, invite_form=form)


@require_POST
@organisation_page(admin=True)
def colleague_invitation_delete(request, invitation_id):
    invitation = colleague_invitation_get(organisation=request.organisation, invitation_id=invitation_id)
    try:
        colleague_invitation_revoke(actor=request.actor, invitation=invitation)
    except RuleConflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email})
    return redirect("accounts:members")


@require_POST
@organisation_page(admin=True)
def member_role(request, user_id):
    member = member_get(organisation=request.organisation, user_id=user_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, row_errors={member.pk: form.errors["role"][0]})
    try:
        member_role_change(actor=request.actor, member=member, role=form.cleaned_data["role"])
    except (InvalidInput, RuleConflict) as error:
        return _members_page(request, row_errors={member.pk: error.message})
    messages.success(
        request, _("%(email)s is now %(role)s.") % {"email": member.email, "role": member.get_role_display().lower()}
    )
    return redirect("accounts:members")


@organisation_page(admin=True)
def member_delete(request, user_id):
    """GET asks for a confirmation; POST takes the member out of the organisation."""
    member = member_get(organisation=request.organisation, user_id=user_id)

    def confirm(error=None):
        context = {"nav": "members", "member": member, "error": error, "is_self": member.pk == request.user.pk}
        return render(request, "accounts/member_remove.html", context)

    def removed():
        messages.success(
            request,
            _("%(email)s is no longer a member of %(organisation)s.")
            % {"email": member.email, "organisation": request.organisation.name},
        )
        return redirect("accounts:members")

    return pages.confirm_then_act(
        request,
        confirm=confirm,
        act=lambda: member_remove(actor=request.actor, member=member),
        done=removed,
        refused=lambda error: confirm(error.message),
    )


# --- API keys --------------------------------------------------------------------------------------------------------


def _api_keys_page(request, *, form=None, new_key=None, status=200):
    return render(
        request,
        "accounts/api_keys.html",
        {
            "nav": "api_keys",
            "organisation": request.organisation,
            "api_keys": api_keys_of(request.organisation),
            "form": form or ApiKeyForm(),
            "new_key": new_key,
        },
        status=status,
    )


@organisation_page(admin=True)
def api_keys(request):
    """GET lists the keys; POST creates one and shows it this once (rendered, never redirected or kept)."""
    if request.method != "POST":
        return _api_keys_page(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        with pages.refusal(form) as refused:
            api_key, clear_key = api_key_create(
                actor=request.actor, organisation=request.organisation, **form.cleaned_data
            )
        if not refused:
            return _api_keys_page(request, new_key={"api_key": api_key, "clear": clear_key}, status=201)
    return _api_keys_page(request, form=form, status=400)


@require_POST
@organisation_page(admin=True)
def api_key_revoke_view(request, api_key_id):
    api_key = api_key_get(organisation=request.organisation, api_key_id=api_key_id)
    api_key_revoke(actor=request.actor, api_key=api_key)
    messages.success(request, _("The key “%(name)s” is revoked.") % {"name": api_key.name})
    return redirect("accounts:api_keys")
