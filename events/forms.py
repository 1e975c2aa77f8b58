"""The webhooks page's form: an endpoint's URL, the event types it receives and a description."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sharing.changes import ChangeType


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"), max_length=2000, help_text=_("Where the events are POSTed, e.g. https://erp.example/hooks.")
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(value, value) for value in ChangeType.values],
        widget=forms.CheckboxSelectMultiple,
        initial=[ChangeType.SHARING_CREATED, ChangeType.SHARING_STARTED, ChangeType.SHARING_ENDED],
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
