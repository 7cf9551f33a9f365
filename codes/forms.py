from django import forms
from django.utils.translation import gettext_lazy as _

from cms.selectors import accounts_below
from cms.web.labels import indented_account_label


class ShareForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("Share with"), queryset=None, empty_label=_("Choose an account"),
        help_text=_("An account below the codes' current holder."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_below(user).order_by("path")
        top = user.account.depth + 1 if user.account else 1
        # The tree below the user's own account, its first level flush left.
        self.fields["account"].label_from_instance = (
            lambda a: indented_account_label(a.name, a.depth, top=top, kind_label=a.get_kind_display())
        )


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
