"""Forms of the fleet pages; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.selectors import workspaces_of


class ReceivedMachineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    workspaces = forms.ModelMultipleChoiceField(
        label=_("Workspaces"), queryset=workspaces_of(None), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspaces"].queryset = workspaces_of(organisation).order_by("name")


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
