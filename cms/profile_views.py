"""The user's profile page: who they are, their password, and their personal API tokens (list,
create, delete). A new token's key is shown once, on the page that answers its creation; only its
hash is kept."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from . import services
from .account_forms import PasswordFields
from .authentication import KEYWORD, api_token_create, api_token_delete, api_tokens_of
from .errors import DomainError
from .validators import one_line


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        validators=[one_line],
        help_text=gettext_lazy("What the token is for, e.g. “tracking server” or “shop”."),
    )


class PasswordChangeForm(PasswordFields):
    old_password = forms.CharField(
        label=gettext_lazy("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = gettext_lazy("New password")
        self.fields["password2"].label = gettext_lazy("New password again")
        for name in ("password1", "password2"):
            self.fields[name].widget.attrs["autocomplete"] = "new-password"


class ProfileView(LoginRequiredMixin, TemplateView):
    template_name = "cms/profile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiTokenForm())
        context.setdefault("password_form", PasswordChangeForm())
        context["tokens"] = api_tokens_of(self.request.user)
        context["keyword"] = KEYWORD
        context["api_docs_url"] = reverse("api:docs")
        return context

    def post(self, request, *args, **kwargs):
        """Create a token, and show its key this once."""
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except DomainError as error:
                form.add_error("name", error.message)
            else:
                context = self.get_context_data(form=ApiTokenForm(), new_token=token, new_key=key)
                response = self.render_to_response(context, status=201)
                response["Cache-Control"] = "no-store"  # the key must not linger in a cache
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordChangeView(ProfileView):
    """Change one's own password; the API tokens go with the old one (the service says why)."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        return redirect("profile:detail")

    def post(self, request, *args, **kwargs):
        form = PasswordChangeForm(request.POST)
        if form.is_valid():
            try:
                user = services.user_change_own_password(
                    user=request.user, old_password=form.cleaned_data["old_password"],
                    new_password=form.cleaned_data["password1"],
                )
            except DomainError as error:
                form.add_error("old_password" if error.code == "wrong_password" else "password1", error.message)
            else:
                update_session_auth_hash(request, user)  # this session stays signed in; the others end
                messages.success(request, _("Your password is changed; any API tokens you had were revoked with the old one."))
                return redirect("profile:detail")
        return self.render_to_response(self.get_context_data(password_form=form), status=400)


class ApiTokenDeleteView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            api_token_delete(user=request.user, token_id=pk)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The token was deleted; its key no longer works."))
        return redirect("profile:detail")
