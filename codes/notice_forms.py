from django import forms
from django.utils.translation import gettext_lazy as _

from cms.validators import lines, one_line

from .services.notices import MAX_DAYS, MIN_DAYS


class NoticeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, validators=[one_line])
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), validators=[lines],
        help_text=_("What your users read after they sign in."),
    )
    days_before = forms.IntegerField(
        label=_("Days before expiry"), min_value=MIN_DAYS, max_value=MAX_DAYS,
        help_text=_("Shown when units lose their cover (their last running or scheduled code ends) within this many days (1-99)."),
    )
    show_repeatedly = forms.BooleanField(
        label=_("Show repeatedly"), required=False, initial=True,
        help_text=_("Off: each user sees it once."),
    )
