"""Forms of the fleet pages; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hiboo_connect.dates import validate_day

from .selectors import workspaces_of


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class PeriodForm(forms.Form):
    """The period a machine page shows: whole days in the organisation's time zone, first and last included."""

    MAX_DAYS = 366

    first = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_day],
    )
    last = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_day],
    )

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last:
            if last < first:
                self.add_error("last", _("The end of the period must not be before its start."))
            elif (last - first).days >= self.MAX_DAYS:
                self.add_error("last", _("Choose a period of at most %(days)s days.") % {"days": self.MAX_DAYS})
        return cleaned


class MachineWorkspacesForm(forms.Form):
    """The workspaces of one of the organisation's own machines."""

    workspaces = forms.ModelMultipleChoiceField(
        label=_("Workspaces"), queryset=workspaces_of(None), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspaces"].queryset = workspaces_of(organisation).order_by("name")
