"""Expiry notices of the user's account: list, create, edit, delete. Writes go through
`codes.notices`; a notice of another account answers 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from cms.errors import DomainError, NotFound
from cms.web.views import AccountRequiredMixin

from . import services
from .notice_forms import NoticeForm
from .notices import notices_of


class NoticeListView(AccountRequiredMixin, TemplateView):
    template_name = "notices/notice_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notices"] = notices_of(self.request.user)
        context["can_write"] = self.request.user.can_write
        return context


class _NoticeWriteView(AccountRequiredMixin, View):
    template_name = "notices/notice_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_write:
            raise DjangoPermissionDenied(_("Your role can only view."))
        return super().dispatch(request, *args, **kwargs)

    def get_notice(self):
        notice = notices_of(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if notice is None:
            raise Http404
        return notice

    def render_form(self, form, notice=None, status=200):
        return render(self.request, self.template_name, {"form": form, "notice": notice}, status=status)


class NoticeCreateView(_NoticeWriteView):
    def get(self, request):
        return self.render_form(NoticeForm())

    def post(self, request):
        form = NoticeForm(request.POST)
        if form.is_valid():
            try:
                notice = services.notice_create(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Notice “%(name)s” created.") % {"name": notice.name})
                return HttpResponseRedirect(reverse("notices:list"))
        return self.render_form(form, status=400)


class NoticeUpdateView(_NoticeWriteView):
    def get(self, request, pk):
        notice = self.get_notice()
        initial = {f: getattr(notice, f) for f in ("name", "text", "days_before", "show_repeatedly")}
        return self.render_form(NoticeForm(initial=initial), notice)

    def post(self, request, pk):
        notice = self.get_notice()
        form = NoticeForm(request.POST)
        if form.is_valid():
            try:
                notice = services.notice_update(actor=request.user, notice=notice, **form.cleaned_data)
            except NotFound:
                raise Http404 from None
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Notice “%(name)s” saved.") % {"name": notice.name})
                return HttpResponseRedirect(reverse("notices:list"))
        return self.render_form(form, notice, status=400)


class NoticeDeleteView(_NoticeWriteView):
    template_name = "notices/notice_confirm_delete.html"

    def get(self, request, pk):
        return render(request, self.template_name, {"notice": self.get_notice()})

    def post(self, request, pk):
        notice = self.get_notice()
        try:
            services.notice_delete(actor=request.user, notice=notice)
        except NotFound:
            raise Http404 from None
        messages.success(request, _("Notice “%(name)s” deleted.") % {"name": notice.name})
        return HttpResponseRedirect(reverse("notices:list"))
