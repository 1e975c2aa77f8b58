"""Forms of the accounts pages. They check the shape of what was typed; the services decide the rest."""

from allauth.account import forms as allauth_forms
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import TIMEZONE_CHOICES, ApiKeyRole, Language, Role


def _drop_placeholders(form) -> None:
    # Every field has a visible label: allauth's placeholders would only repeat it.
    for field in form.fields.values():
        field.widget.attrs.pop("placeholder", None)


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail")
        self.fields["login"].widget.attrs.update({"autocomplete": "email", "autofocus": True})
        self.fields["password"].label = _("Password")
        self.fields["password"].help_text = ""  # the page has its own "Forgot your password?" link
        _drop_placeholders(self)
        if "remember" in self.fields:
            self.fields["remember"].label = _("Keep me logged in")


class SignupForm(allauth_forms.SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail")
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["password1"].label = _("Password")
        self.fields["password2"].label = _("Password (again)")
        _drop_placeholders(self)
        # The cursor goes where there is something to type: the password when the e-mail came with the invitation.
        first = "password1" if self.initial.get("email") else "email"
        self.fields[first].widget.attrs["autofocus"] = True


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail")
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})
        _drop_placeholders(self)


#: The zone database's entries that name no place a person would pick.
UNPICKABLE_TIMEZONES = {"localtime", "Factory"}


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[choice for choice in TIMEZONE_CHOICES if choice[0] not in UNPICKABLE_TIMEZONES],
        help_text=_("Dates of sharings are shown and typed in this time zone."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        help_text=_("The language of the e-mails sent to your organisation."),
    )


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    organisation_name = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        help_text=_("As you know it; the organisation's own name shows once they have an account."),
    )


REMINDER_DAY_CHOICES = (1, 2, 3, 5, 7, 10, 14, 21, 30)


class OrganisationSettingsForm(OrganisationForm):
    reminder_days = forms.TypedChoiceField(
        label=_("Reminder before a sharing ends"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "Your admins are reminded of what you share, and recipients of what you receive. "
            "“Ending soon” in the share centre spans the same days."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form, in the language of the request: a plural formatted at import time stays English.
        days = REMINDER_DAY_CHOICES
        self.fields["reminder_days"].choices = [("", _("No reminder"))] + [
            (count, ngettext("%(count)d day before", "%(count)d days before", count) % {"count": count})
            for count in days
        ]


class ColleagueInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the key is for, e.g. “ERP sync”."))
    role = forms.ChoiceField(label=_("Role"), choices=ApiKeyRole.choices, initial=ApiKeyRole.ADMIN)
