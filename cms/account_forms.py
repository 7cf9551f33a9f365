"""Forms of the accounts and users pages, and the sign-in form. They validate input shape only;
the rules live in `cms.services`."""

import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Account, User
from .selectors import accounts_visible_to
from .validators import one_line
from .web.labels import indented_account_label


def _tree_label(account: Account) -> str:
    return indented_account_label(account.name, account.depth, kind_label=account.get_kind_display())


def time_zone_choices():
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class ActiveAccountAuthenticationForm(AuthenticationForm):
    """Sign-in that also refuses users whose account is disabled (a disabled user is already
    refused by the authentication backend)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "account_disabled": _("Your account is disabled. Ask the administrator of the account above yours."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        account = user.account
        if account is not None and not account.is_active:
            raise forms.ValidationError(self.error_messages["account_disabled"], code="account_disabled")


class AccountCreateForm(forms.Form):
    parent = forms.ModelChoiceField(label=_("Below"), queryset=Account.objects.none())
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(Account.Kind.RESELLER, _("Reseller")), (Account.Kind.CUSTOMER, _("Customer"))]
    )
    name = forms.CharField(label=_("Name"), max_length=200, validators=[one_line])
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, help_text=_("Empty: the parent's time zone."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            accounts_visible_to(user).exclude(kind=Account.Kind.CUSTOMER).filter(is_active=True).order_by("path")
        )
        self.fields["parent"].label_from_instance = _tree_label
        self.fields["time_zone"].choices = [("", "—"), *time_zone_choices()]


class AccountEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, validators=[one_line])
    time_zone = forms.ChoiceField(label=_("Time zone"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()


class AccountMoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(label=_("Move below"), queryset=Account.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = candidates
        self.fields["new_parent"].label_from_instance = _tree_label


class PasswordFields(forms.Form):
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False))
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserCreateForm(PasswordFields):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    username = forms.CharField(label=_("Username"), max_length=150, validators=[one_line])
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, initial=User.Role.VIEWER)
    email = forms.EmailField(label=_("E-mail"), required=False, validators=[one_line])
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False, validators=[one_line])
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False, validators=[one_line])
    invite = forms.BooleanField(
        label=_("Invite by e-mail"), required=False,
        help_text=_("The user gets a link to choose a password; leave the passwords empty."),
    )
    field_order = ["account", "username", "role", "email", "first_name", "last_name", "invite", "password1", "password2"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_visible_to(user).filter(is_active=True).order_by("path")
        self.fields["account"].label_from_instance = _tree_label
        self.fields["password1"].required = self.fields["password2"].required = False

    def clean(self):
        data = super().clean()
        if data.get("invite"):
            if not data.get("email"):
                self.add_error("email", _("An invitation needs an e-mail address."))
        elif not data.get("password1"):
            self.add_error("password1", _("Set a password, or invite the user by e-mail."))
        return data


class UserEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    email = forms.EmailField(label=_("E-mail"), required=False, validators=[one_line])
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False, validators=[one_line])
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False, validators=[one_line])


class UserPasswordForm(PasswordFields):
    pass
