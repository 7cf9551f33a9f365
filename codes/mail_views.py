"""The "send by e-mail" bulk action of the codes window.

The window's bulk bar posts the selected codes as `pk` values (or links here with
`?pk=1&pk=2`); this page shows them with the form (recipient, message, language, one e-mail per
code or one for all) and, on "Send", calls `codes.services.codes_send_by_email`.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views import View

from cms.errors import DomainError, RateLimited

from .mail_forms import CodeSendForm
from .rules import reservation_of
from .selectors import codes_visible_to, with_state
from .services import codes_send_by_email

#: The page's status for a refused send, as the API answers it.
_STATUS = {"permission_denied": 403, "rate_limited": 429}


def _pks(values) -> list[int]:
    pks = []
    for value in values:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise Http404 from None
        if pk not in pks:
            pks.append(pk)
    return pks


class CodeSendView(LoginRequiredMixin, View):
    template_name = "email/send.html"

    def _return_url(self, request) -> str:
        """Back to where the action came from (the window with its filters, or a code's page)."""
        url = request.POST.get("_return") or request.GET.get("_return") or ""
        if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
            return url
        return reverse("codes:list")

    def _codes(self, request, pks):
        """The selected codes, all of them visible to the user; any other answers 404."""
        codes = list(with_state(codes_visible_to(request.user).filter(pk__in=pks)).select_related("holder").order_by("pk"))
        if len(codes) != len(pks):
            raise Http404
        for code in codes:  # a code kept for someone goes again to that address only
            code.reservation = reservation_of(code, state=code.state)
        return codes

    def _render(self, request, form, codes, status=200):
        context = {"form": form, "codes": codes, "return_url": self._return_url(request)}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        pks = _pks(request.GET.getlist("pk"))
        if not pks:
            messages.warning(request, _("Select at least one code."))
            return redirect(self._return_url(request))
        form = CodeSendForm(initial={"language": (get_language() or "en")[:2]})
        return self._render(request, form, self._codes(request, pks))

    def post(self, request):
        pks = _pks(request.POST.getlist("pk"))
        if not pks:
            messages.warning(request, _("Select at least one code."))
            return redirect(self._return_url(request))
        codes = self._codes(request, pks)
        if "_send" not in request.POST:  # arriving from the window's bulk bar: show the form
            form = CodeSendForm(initial={"language": (get_language() or "en")[:2]})
            return self._render(request, form, codes)
        form = CodeSendForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, codes)
        try:
            sent = codes_send_by_email(
                codes=pks,
                actor=request.user,
                recipient=form.cleaned_data["recipient"],
                message=form.cleaned_data["message"],
                language=form.cleaned_data["language"],
                one_mail_per_code=form.one_mail_per_code,
            )
        except DomainError as error:
            for refusal in error.refusals:
                if refusal.item in form.fields:
                    form.add_error(refusal.item, refusal.reason)
                else:
                    form.add_error(None, f"{refusal.item}: {refusal.reason}")
            if not error.refusals:
                form.add_error(None, error.message)
            response = self._render(request, form, codes, status=_STATUS.get(error.code, 409))
            if isinstance(error, RateLimited):
                response["Retry-After"] = str(error.retry_after)
            return response
        messages.success(
            request,
            ngettext(
                "%(count)d code is being sent to %(recipient)s.",
                "%(count)d codes are being sent to %(recipient)s.",
                len(sent),
            )
            % {"count": len(sent), "recipient": form.cleaned_data["recipient"]},
        )
        return redirect(self._return_url(request))
