"""The Accounts section: the tree with its counts, account and user management, stock per
account. Reads through selectors, writes through `cms.services`; no rule lives here."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from codes import services as code_services
from codes.network import account_tree, stock_per_account

from . import services
from .account_forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountMoveForm,
    ActiveAccountAuthenticationForm,
    UserCreateForm,
    UserEditForm,
    UserPasswordForm,
)
from .account_tables import UserFilterSet, UserTable
from .errors import DomainError
from .models import Account, User
from .selectors import accounts_visible_to
from .web.addresses import client_address
from .web.views import AccountRequiredMixin, BulkAction, BulkActionView, ObjectListView


def users_visible_to(user):
    """Users of the user's account and of every account below it."""
    return User.objects.filter(account__in=accounts_visible_to(user))


class AdminBulkAction(BulkAction):
    def allowed_for(self, user) -> bool:
        return bool(getattr(user, "is_account_admin", False))


class AdminRequiredMixin(AccountRequiredMixin):
    """Managing accounts and users is for account admins; the services check it again."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.account is not None and not request.user.is_account_admin:
            # The object lookup (404 outside the tree) comes first, in get_object.
            self.get_object()
            raise DjangoPermissionDenied(_("Only account admins can manage accounts and users."))
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        return None


class ServiceFormView(AdminRequiredMixin, View):
    """A form page whose valid POST makes one service call; a refusal is shown on the form."""

    template_name = "accounts/form.html"
    title = ""
    submit_label = gettext_lazy("Save")
    submit_style = "primary"
    explanation = ""

    def get_form(self, data=None):
        raise NotImplementedError

    def perform(self, form):
        """Call the service; return (message, redirect url)."""
        raise NotImplementedError

    def context(self, form, **extra):
        return {
            "title": self.title, "form": form, "submit_label": self.submit_label, "submit_style": self.submit_style,
            "explanation": self.explanation, "object": self.get_object(), **extra,
        }

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, self.context(self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                message, url = self.perform(form)
            except DomainError as refused:
                form.add_error(None, refused.message)
                for refusal in refused.refusals:
                    form.add_error(None, f"{refusal.item}: {refusal.reason}")
            else:
                messages.success(request, message)
                return redirect(url)
        return render(request, self.template_name, self.context(form), status=400)


# --- the tree -----------------------------------------------------------------------------------


class AccountTreeView(AccountRequiredMixin, TemplateView):
    template_name = "accounts/tree.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["roots"] = roots = account_tree(self.request.user)
        # Open the first levels below the user's account; deeper branches open on a click.
        context["open_depth"] = (roots[0].account.depth if roots else 1) + 2
        context["can_manage"] = self.request.user.is_account_admin
        context["tab"] = "tree"
        return context


class AccountObjectMixin:
    def get_object(self):
        if not hasattr(self, "_object"):
            self._object = get_object_or_404(accounts_visible_to(self.request.user), pk=self.kwargs["pk"])
        return self._object


class AccountCreateView(ServiceFormView):
    title = gettext_lazy("New account")
    submit_label = gettext_lazy("Create")

    def get_form(self, data=None):
        initial = {"kind": self.request.GET.get("kind", Account.Kind.CUSTOMER)}
        parent = self.request.GET.get("parent", "")
        if parent.isdigit():
            initial["parent"] = get_object_or_404(accounts_visible_to(self.request.user), pk=int(parent)).pk
        return AccountCreateForm(data, user=self.request.user, initial=initial)

    def perform(self, form):
        data = form.cleaned_data
        account = services.account_create(
            actor=self.request.user, parent=data["parent"], name=data["name"], kind=data["kind"],
            time_zone=data["time_zone"] or None,
        )
        return _("%(account)s created.") % {"account": account.name}, "accounts:list"


class AccountEditView(AccountObjectMixin, ServiceFormView):
    title = gettext_lazy("Edit account")

    def get_form(self, data=None):
        account = self.get_object()
        return AccountEditForm(data, initial={"name": account.name, "time_zone": account.time_zone})

    def perform(self, form):
        account = services.account_update(actor=self.request.user, account=self.get_object(), **form.cleaned_data)
        return _("%(account)s saved.") % {"account": account.name}, "accounts:list"


class AccountMoveView(AccountObjectMixin, ServiceFormView):
    title = gettext_lazy("Move a customer")
    submit_label = gettext_lazy("Move")
    submit_style = "warning"
    explanation = gettext_lazy(
        "The customer moves with its units and the codes it holds; every code keeps running. Codes on its units "
        "held by its old reseller pass to the customer, so they stay inside their holder's part of the network."
    )

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.account is not None and request.user.is_account_admin:
            account = self.get_object()
            if not account.is_customer:
                messages.error(request, _("Only a customer can be moved to another reseller."))
                return redirect("accounts:list")
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None):
        try:
            candidates = services.account_move_candidates(actor=self.request.user, customer=self.get_object())
        except DomainError as refused:
            raise DjangoPermissionDenied(refused.message)
        return AccountMoveForm(data, candidates=candidates)

    def perform(self, form):
        customer = code_services.account_move_customer(
            actor=self.request.user, customer=self.get_object(), new_parent=form.cleaned_data["new_parent"]
        )
        return _("%(customer)s now belongs to %(parent)s.") % {
            "customer": customer.name, "parent": form.cleaned_data["new_parent"].name,
        }, "accounts:list"


class AccountActiveView(AccountObjectMixin, ServiceFormView):
    active = False

    @property
    def title(self):
        return _("Enable account") if self.active else _("Disable account")

    @property
    def submit_label(self):
        return _("Enable") if self.active else _("Disable")

    @property
    def submit_style(self):
        return "success" if self.active else "danger"

    @property
    def explanation(self):
        if self.active:
            return _("Its users can sign in again.")
        return " ".join([
            _("Its users can no longer sign in. Nothing is deleted: its units, codes and history stay."),
            _("The accounts below it are disabled with it; enabling it again enables them too."),
        ])

    def get_form(self, data=None):
        from django import forms

        return forms.Form(data)

    def perform(self, form):
        account = services.account_set_active(actor=self.request.user, account=self.get_object(), active=self.active)
        if self.active:
            return _("%(account)s is enabled.") % {"account": account.name}, "accounts:list"
        return _("%(account)s is disabled.") % {"account": account.name}, "accounts:list"


# --- users --------------------------------------------------------------------------------------


class UserListView(ObjectListView):
    title = gettext_lazy("Users")
    url_name = "accounts:users"
    table_class = UserTable
    filterset_class = UserFilterSet
    template_name = "accounts/users.html"
    bulk_actions = [
        AdminBulkAction(gettext_lazy("Disable"), "accounts:users_disable", "outline-danger"),
        AdminBulkAction(gettext_lazy("Enable"), "accounts:users_enable", "outline-success"),
    ]

    def get_base_queryset(self):
        return users_visible_to(self.request.user).select_related("account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "users"
        context["can_manage"] = self.request.user.is_account_admin
        return context


class UsersActiveView(BulkActionView):
    list_view_class = UserListView
    active = False

    def check_permission(self):
        if not self.request.user.is_account_admin:
            raise DjangoPermissionDenied(_("Only account admins can manage accounts and users."))

    def perform(self, queryset, form):
        count = services.users_set_active(
            actor=self.request.user, users=list(queryset.values_list("pk", flat=True)), active=self.active
        )
        if self.active:
            return ngettext("%(count)d user enabled.", "%(count)d users enabled.", count) % {"count": count}
        return ngettext("%(count)d user disabled.", "%(count)d users disabled.", count) % {"count": count}


class UsersDisableView(UsersActiveView):
    title = gettext_lazy("Disable users")
    confirm_label = gettext_lazy("Disable")
    confirm_style = "danger"
    explanation = gettext_lazy("They can no longer sign in; their open sessions end. Nothing is deleted.")


class UsersEnableView(UsersActiveView):
    title = gettext_lazy("Enable users")
    confirm_label = gettext_lazy("Enable")
    confirm_style = "success"
    active = True


class UserObjectMixin:
    def get_object(self):
        if not hasattr(self, "_object"):
            self._object = get_object_or_404(
                users_visible_to(self.request.user).select_related("account"), pk=self.kwargs["pk"]
            )
        return self._object


class UserCreateView(ServiceFormView):
    title = gettext_lazy("New user")
    submit_label = gettext_lazy("Create")

    def get_form(self, data=None):
        initial = {}
        account = self.request.GET.get("account", "")
        if account.isdigit():
            initial["account"] = get_object_or_404(accounts_visible_to(self.request.user), pk=int(account)).pk
        else:
            initial["account"] = self.request.user.account_id
        return UserCreateForm(data, user=self.request.user, initial=initial)

    def perform(self, form):
        data = form.cleaned_data
        common = {
            "actor": self.request.user, "account": data["account"], "username": data["username"], "role": data["role"],
            "email": data["email"], "first_name": data["first_name"], "last_name": data["last_name"],
        }
        if data["invite"]:
            user = services.user_invite(**common)
            return _("User %(username)s created; an invitation went to %(email)s.") % {
                "username": user.username, "email": user.email,
            }, "accounts:users"
        user = services.user_create(password=data["password1"], **common)
        return _("User %(username)s created.") % {"username": user.username}, "accounts:users"


class UserEditView(UserObjectMixin, ServiceFormView):
    title = gettext_lazy("Edit user")
    template_name = "accounts/user_form.html"

    def get_form(self, data=None):
        user = self.get_object()
        return UserEditForm(data, initial={
            "role": user.role, "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
        })

    def perform(self, form):
        user = services.user_update(actor=self.request.user, user=self.get_object(), **form.cleaned_data)
        return _("User %(username)s saved.") % {"username": user.username}, "accounts:users"


class UserPasswordView(UserObjectMixin, ServiceFormView):
    title = gettext_lazy("Set a new password")

    def get_form(self, data=None):
        return UserPasswordForm(data)

    def perform(self, form):
        user = services.user_set_password(
            actor=self.request.user, user=self.get_object(), password=form.cleaned_data["password1"]
        )
        return _("New password set for %(username)s.") % {"username": user.username}, "accounts:users"


class SignInView(auth_views.LoginView):
    """The sign-in page: the form checks the credentials, the service opens the session and
    records the sign-in."""

    authentication_form = ActiveAccountAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        services.user_sign_in(request=self.request, user=form.get_user(), client_address=client_address(self.request))
        return HttpResponseRedirect(self.get_success_url())


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: choose a first password (validated), then sign in. Public: the
    token in the link is the proof."""

    template_name = "accounts/invitation.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or not user.is_active or (user.account_id and not user.account.is_active):
            return None
        return user

    def form_valid(self, form):
        # The service sets the password (never the form's save()), so the change is recorded.
        try:
            services.invitation_accept(user=self.user, password=form.cleaned_data["new_password1"])
        except DomainError as refused:
            form.add_error("new_password2", refused.message)
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, _("Your password is set. Sign in with it."))
        return HttpResponseRedirect(self.get_success_url())


# --- stock --------------------------------------------------------------------------------------


class StockView(AccountRequiredMixin, TemplateView):
    template_name = "accounts/stock.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stock = stock_per_account(self.request.user)
        context["running_out_first"] = self.request.GET.get("order") == "lasts"
        if context["running_out_first"]:
            stock.rows.sort(key=lambda row: (row.days_left is None, row.days_left or 0, row.account.path))
        context["stock"] = stock
        context["tab"] = "stock"
        return context
