from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cms.validators import one_line

from .use_by import use_by_refusal

PERIOD_SUGGESTIONS = (30, 90, 180, 365)


class BatchGenerateForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=settings.KEYLINE_MAX_BATCH,
                                  initial=100)
    period_days = forms.IntegerField(
        label=_("Period (days)"), min_value=1, max_value=3660, initial=365,
        help_text=_("Typical: 30, 90, 180 or 365 days."),
        widget=forms.NumberInput(attrs={"list": "period-suggestions"}),
    )
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=12, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), min_length=3, max_length=3, initial="EUR",
                               help_text=_("Three letters, such as EUR or USD."))
    use_by = forms.DateField(label=_("Use by"), required=False,
                             help_text=_("Optional: once this day has ended in your account's time zone, unused codes can no longer be applied."),
                             widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False, validators=[one_line])

    def __init__(self, *args, today, **kwargs):
        """`today`: the day it is in the provider's time zone, which a use-by date is checked against."""
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean_use_by(self):
        use_by = self.cleaned_data["use_by"]
        if use_by is not None and (refusal := use_by_refusal(use_by, today=self.today)):
            raise forms.ValidationError(refusal)
        return use_by
