"""The confirmation form of the "send by e-mail" bulk action."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .redeem_forms import AccessibleFormMixin
from .services.mail import MESSAGE_MAX_LENGTH


class CodeSendForm(AccessibleFormMixin, forms.Form):
    PER_CODE = "per_code"
    ONE_MAIL = "one_mail"

    recipient = forms.EmailField(
        label=_("Recipient"),
        help_text=_("The end customer's e-mail address."),
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email"}),
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        help_text=_("Optional; added to the e-mail as written."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    language = forms.ChoiceField(
        label=_("Language of the e-mail"),
        choices=settings.LANGUAGES,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    layout = forms.ChoiceField(
        label=_("E-mails"),
        choices=[(PER_CODE, _("One e-mail per code")), (ONE_MAIL, _("One e-mail listing all the codes"))],
        initial=PER_CODE,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe_fields()

    @property
    def one_mail_per_code(self) -> bool:
        return self.cleaned_data["layout"] == self.PER_CODE
