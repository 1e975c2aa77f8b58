"""The form of a telematics source in the portal. It checks shapes; the services decide the rest. The secret field is
write-only: it never shows the stored value, and left empty it keeps it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import POLL_MINUTES_MAX, POLL_MINUTES_MIN, AuthType, TelematicsSource
from .services import SourceAuth


class TelematicsSourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("E.g. “VisionLink” or “JDLink Europe”."))
    base_url = forms.CharField(
        label=_("Feed address"),
        max_length=500,
        help_text=_("The ISO 15143-3 (AEMP 2.0) root, before /Fleet/1: e.g. https://oem.example/aemp/v2."),
    )
    auth_type = forms.ChoiceField(label=_("Authentication"), choices=AuthType.choices, widget=forms.RadioSelect)
    username = forms.CharField(label=_("User name"), max_length=200, required=False, help_text=_("HTTP Basic."))
    token_url = forms.CharField(label=_("Token URL"), max_length=500, required=False, help_text=_("OAuth2."))
    client_id = forms.CharField(label=_("Client id"), max_length=200, required=False, help_text=_("OAuth2."))
    header_name = forms.CharField(
        label=_("Header name"), max_length=100, required=False, help_text=_("A key in a header, e.g. X-Api-Key.")
    )
    secret = forms.CharField(
        label=_("Password, client secret or key"),
        max_length=2000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    poll_minutes = forms.IntegerField(
        label=_("Poll every (minutes)"), min_value=POLL_MINUTES_MIN, max_value=POLL_MINUTES_MAX, initial=60
    )
    create_machines = forms.BooleanField(
        label=_("Create the machines the feed lists that the fleet does not have"), required=False
    )

    def __init__(self, *args, source: TelematicsSource | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        if source is not None and source.secret:
            self.fields["secret"].help_text = _("A secret is stored; it is never shown. Leave empty to keep it.")

    @classmethod
    def initial_of(cls, source: TelematicsSource) -> dict:
        names = ("name", "base_url", "auth_type", "username", "token_url", "client_id", "header_name", "poll_minutes")
        return {name: getattr(source, name) for name in names} | {"create_machines": source.create_machines}

    def auth(self) -> SourceAuth:
        data = self.cleaned_data
        return SourceAuth(
            type=data["auth_type"],
            username=data["username"],
            token_url=data["token_url"],
            client_id=data["client_id"],
            header_name=data["header_name"],
            secret=data["secret"] or None,
        )

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "base_url": data["base_url"],
            "auth": self.auth(),
            "poll_minutes": data["poll_minutes"],
            "create_machines": data["create_machines"],
        }
