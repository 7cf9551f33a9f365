"""Forms of the redemption page: the check step (code and hardware id, or one of a signed-in
customer's units) and the confirmation step, which is bound to what was shown by a signed,
time-stamped token."""

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from units.models import normalize_hardware_id

from . import text as code_text

CONFIRM_SALT = "keyline.redeem.confirm"
FIELD_MAX_LENGTH = 64


class AccessibleFormMixin:
    """Links each field to its help text and error text with `aria-describedby`, and marks
    fields in error with `aria-invalid`, so screen readers read the message with the field.
    The template gives the help text the id `<field id>-help` and errors `<field id>-error`."""

    def _describe_fields(self):
        for name, field in self.fields.items():
            auto_id = self[name].auto_id
            ids = []
            if field.help_text:
                ids.append(f"{auto_id}-help")
            classes = [c for c in field.widget.attrs.get("class", "").split() if c != "is-invalid"]
            if self.is_bound and self._errors and name in self._errors:
                ids.append(f"{auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
                classes.append("is-invalid")
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if classes:
                field.widget.attrs["class"] = " ".join(classes)
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            else:
                field.widget.attrs.pop("aria-describedby", None)

    def full_clean(self):
        super().full_clean()
        self._describe_fields()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._describe_fields()


_CODE_ATTRS = {
    "autocomplete": "off",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "class": "form-control form-control-lg code-text",
    "placeholder": "XXXXX-XXXXX-XXXXX-XXXXX-X",
}
_HARDWARE_ATTRS = {
    "autocomplete": "off",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "class": "form-control form-control-lg",
}


class RedeemForm(AccessibleFormMixin, forms.Form):
    """Step 1. Anonymous visitors (and staff) type the hardware id; a signed-in customer picks
    one of its units instead (`units` is then that customer's units)."""

    code = forms.CharField(
        label=_("Activation code"),
        max_length=FIELD_MAX_LENGTH,
        help_text=_("As written in your e-mail; dashes and spaces do not matter."),
        widget=forms.TextInput(attrs=_CODE_ATTRS),
    )
    hardware_id = forms.CharField(
        label=_("Hardware id of the tracker"),
        max_length=FIELD_MAX_LENGTH,
        help_text=_("The IMEI or unique id printed on the tracker."),
        widget=forms.TextInput(attrs=_HARDWARE_ATTRS),
    )

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.picks_unit = units is not None
        if self.picks_unit:
            del self.fields["hardware_id"]
            self.fields["unit"] = forms.ModelChoiceField(
                label=_("Unit"),
                queryset=units,
                empty_label=_("Choose one of your units"),
                help_text=_("The code is applied to this unit."),
                widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
            )
        self._describe_fields()

    def clean_code(self):
        value = self.cleaned_data["code"]
        if not code_text.normalize(value):
            raise forms.ValidationError(_("Enter the activation code."), code="required")
        return value

    def clean_hardware_id(self):
        value = self.cleaned_data["hardware_id"]
        if not normalize_hardware_id(value):
            raise forms.ValidationError(_("Enter the tracker's hardware id."), code="required")
        return value

    @property
    def hardware_id_value(self) -> str:
        if self.picks_unit:
            unit = self.cleaned_data.get("unit")
            return unit.hardware_id if unit is not None else ""
        return self.cleaned_data.get("hardware_id", "")


def confirmation_sign(*, code_text_canonical: str, hardware_id: str, unit_id: int, actor_id: int | None) -> str:
    """The token of the confirmation step: what was shown, signed and time-stamped."""
    payload = {"c": code_text_canonical, "h": normalize_hardware_id(hardware_id), "u": unit_id, "a": actor_id}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


class ConfirmForm(forms.Form):
    """Step 2: the code and hardware id as shown, and the token binding them. Refused when the
    token is forged or too old, or when the posted code or hardware id differ from what it
    binds (a unit or code swapped between the steps)."""

    code = forms.CharField(max_length=FIELD_MAX_LENGTH, widget=forms.HiddenInput)
    hardware_id = forms.CharField(max_length=FIELD_MAX_LENGTH, widget=forms.HiddenInput)
    token = forms.CharField(max_length=2000, widget=forms.HiddenInput)

    #: Why the form was refused: "confirmation_expired" or "confirmation_tampered".
    refusal: str | None = None

    def __init__(self, *args, actor_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor_id = actor_id

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            self.refusal = "confirmation_tampered"
            return cleaned
        try:
            payload = signing.loads(
                cleaned["token"], salt=CONFIRM_SALT, max_age=settings.KEYLINE_REDEEM_CONFIRM_MAX_AGE
            )
        except signing.SignatureExpired:
            self.refusal = "confirmation_expired"
            raise forms.ValidationError(
                _("This confirmation is too old. Check the code again."), code="confirmation_expired"
            )
        except signing.BadSignature:
            payload = None
        if (
            not isinstance(payload, dict)
            or payload.get("c") != code_text.normalize(cleaned["code"])
            or payload.get("h") != normalize_hardware_id(cleaned["hardware_id"])
            or payload.get("a") != self.actor_id
            or not isinstance(payload.get("u"), int)
        ):
            self.refusal = "confirmation_tampered"
            raise forms.ValidationError(
                _("The details changed after they were checked. Check the code again."),
                code="confirmation_tampered",
            )
        cleaned["unit_id"] = payload["u"]
        return cleaned
