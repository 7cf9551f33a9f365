"""The redemption page: public, and the same page for signed-in customers.

Two steps. "check" validates the form and shows what redeeming would do
(`codes.services.redeem_preview`) with a signed, time-stamped token; "confirm" verifies the token
against the posted code and hardware id, then calls `codes.services.code_redeem`, which
decides again and records the outcome. Every POST counts against the rate limits
(`codes.ratelimits`); every refused attempt is one `redeem_refused` audit entry (the service
records its own, `redeem_refusal_record` the others), except the rate-limited ones: only the first of
a limit's window is recorded (`redeem_limit_record`), and none of them looks anything up.

Neither the code nor the hardware id is logged or shown on error pages
(`sensitive_post_parameters`); the page is never cached.
"""

import math
from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from cms.actors import ANONYMOUS
from cms.errors import DomainError
from units.models import Unit, normalize_hardware_id
from units.selectors import units_visible_to

from . import ratelimits
from . import text as code_text
from .redeem_forms import FIELD_MAX_LENGTH, ConfirmForm, RedeemForm, confirmation_sign
from .selectors import code_by_text
from .services import code_redeem, redeem_preview, redeem_refusal_record
from .services.redemption import redeem_limit_record

SESSION_DONE = "keyline.redeem.done"
_SENSITIVE = ("code", "hardware_id", "token", "unit")


def mask_name(name: str) -> str:
    """A unit's name for someone who has not signed in: the first third of each word, the rest
    hidden ("Truck 12" -> "Tr••• 1•")."""
    words = []
    for word in (name or "").split():
        keep = max(1, math.ceil(len(word) / 3))
        words.append(word[:keep] + "•" * (len(word) - keep))
    return " ".join(words)


def mask_hardware_id(hardware_id: str) -> str:
    """The last four characters, the rest hidden."""
    return "•" * max(0, len(hardware_id) - 4) + hardware_id[-4:]


def _posted(request, name: str) -> str:
    """A raw posted value, bounded and without NUL characters (which no database column takes),
    for the paths that look things up before the form has validated it."""
    return request.POST.get(name, "")[:FIELD_MAX_LENGTH].replace("\x00", "")


def _actor(request):
    return request.user if request.user.is_authenticated else ANONYMOUS


def _customer_units(request):
    """A signed-in customer picks one of its own units; everybody else types a hardware id."""
    user = request.user
    account = getattr(user, "account", None) if user.is_authenticated else None
    if account is None or not account.is_customer:
        return None
    return units_visible_to(user).order_by("name", "pk")


def _field_for(refusal_code: str, form: RedeemForm) -> str | None:
    if refusal_code in CODE_FIELD_ANSWERS:
        return "code"
    if refusal_code in UNIT_FIELD_ANSWERS:
        return "unit" if form.picks_unit else "hardware_id"
    return None


@sensitive_variables()
def _identify(typed_code: str, hardware_id: str) -> dict:
    """The code and unit an attempt names, if they exist, so that its audit entry lands in the
    report of the code's provider. Read-only; nothing of it reaches the visitor."""
    canonical = code_text.normalize(typed_code)
    if not code_text.is_well_formed(canonical):
        return {}
    code = code_by_text(canonical)
    if code is None:
        return {}
    unit = Unit.objects.filter(provider_id=code.provider_id, hardware_id=normalize_hardware_id(hardware_id)).first()
    return {"code": code, "unit": unit}


#: Which form field a refusal is about.
CODE_FIELD_ANSWERS = {"code_mistyped", "code_not_valid", "code_already_used", "code_expired", "unit_covered"}
UNIT_FIELD_ANSWERS = {"unit_not_eligible"}


def _answer(error: DomainError) -> str:
    """The page's words for a refusal: the same for the check step and the service."""
    return error.message


@method_decorator(
    [never_cache, sensitive_post_parameters(*_SENSITIVE), csrf_protect, ensure_csrf_cookie], name="dispatch"
)
class RedeemView(View):
    template_name = "redeem/redeem.html"
    confirm_template_name = "redeem/confirm.html"

    # --- rendering ------------------------------------------------------------------------

    def _render_form(self, request, form: RedeemForm, status: int = 200) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "step": "check"}, status=status)

    def _refill(self, request, units, *, code: str, hardware_id: str, unit_id: int | None = None) -> RedeemForm:
        """The step-1 form again, bound to what the visitor had entered, to show an error on."""
        data = {"code": code_text.display(code_text.normalize(code)) if code else ""}
        if units is not None:
            if unit_id is None:
                unit_id = units.filter(hardware_id=normalize_hardware_id(hardware_id)).values_list("pk", flat=True).first()
            data["unit"] = unit_id or ""
        else:
            data["hardware_id"] = hardware_id
        form = RedeemForm(data, units=units)
        form.is_valid()
        return form

    def _rate_limited(self, request, form: RedeemForm, limited: ratelimits.Limited) -> HttpResponse:
        redeem_limit_record(limited=limited, actor=_actor(request), client_address=ratelimits.client_address(request))
        if form._errors is None:
            form.is_valid()
        form.add_error(
            None,
            _("Too many attempts. Try again in %(minutes)d minutes.") % {"minutes": limited.minutes}
            if limited.minutes != 1
            else _("Too many attempts. Try again in 1 minute."),
        )
        response = self._render_form(request, form, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response

    # --- GET --------------------------------------------------------------------------------

    def get(self, request):
        typed = request.GET.get("code", "")[:FIELD_MAX_LENGTH]
        form = RedeemForm(initial={"code": typed}, units=_customer_units(request))
        return self._render_form(request, form)

    # --- POST -------------------------------------------------------------------------------

    def post(self, request):
        if request.POST.get("step") == "confirm":
            return self._confirm(request)
        return self._check(request)

    @sensitive_variables()
    def _posted_hardware_id(self, request, units) -> str:
        if units is None:
            return _posted(request, "hardware_id")
        try:
            unit_id = int(_posted(request, "unit"))
        except (TypeError, ValueError):
            return ""
        return units.filter(pk=unit_id).values_list("hardware_id", flat=True).first() or ""

    @sensitive_variables()
    def _check(self, request):
        actor = _actor(request)
        units = _customer_units(request)
        form = RedeemForm(request.POST, units=units)
        posted_hardware_id = self._posted_hardware_id(request, units)
        limited = ratelimits.redeem_attempt(request, hardware_id=posted_hardware_id)
        if limited is not None:
            return self._rate_limited(request, form, limited)
        address = ratelimits.client_address(request)
        if not form.is_valid():
            redeem_refusal_record(reason="invalid_input", actor=actor, client_address=address)
            return self._render_form(request, form)
        typed_code, hardware_id = form.cleaned_data["code"], form.hardware_id_value
        found: dict = {}
        try:
            preview = redeem_preview(code_text_typed=typed_code, hardware_id=hardware_id, actor=actor, found=found)
        except DomainError as error:
            redeem_refusal_record(
                reason=error.code, actor=actor, client_address=address, code=found.get("code"), unit=found.get("unit")
            )
            form.add_error(_field_for(error.code, form), _answer(error))
            return self._render_form(request, form)
        signed_in = actor.pk is not None
        confirm = ConfirmForm(
            initial={
                "code": preview.code.display_text,
                "hardware_id": preview.unit.hardware_id,
                "token": confirmation_sign(
                    code_text_canonical=preview.code.text,
                    hardware_id=preview.unit.hardware_id,
                    unit_id=preview.unit.pk,
                    actor_id=actor.pk,
                ),
            },
            actor_id=actor.pk,
        )
        context = {
            "step": "confirm",
            "form": confirm,
            "preview": preview,
            "unit_label": preview.unit.name if signed_in else mask_name(preview.unit.name),
            "hardware_label": preview.unit.hardware_id if signed_in else mask_hardware_id(preview.unit.hardware_id),
            "tz": preview.unit.owner.time_zone,
        }
        return render(request, self.confirm_template_name, context)

    @sensitive_variables()
    def _confirm(self, request):
        actor = _actor(request)
        units = _customer_units(request)
        posted_code = _posted(request, "code")
        posted_hardware_id = _posted(request, "hardware_id")
        limited = ratelimits.redeem_attempt(request, hardware_id=posted_hardware_id)
        if limited is not None:
            form = self._refill(request, units, code=posted_code, hardware_id=posted_hardware_id)
            return self._rate_limited(request, form, limited)
        address = ratelimits.client_address(request)
        confirm = ConfirmForm(request.POST, actor_id=actor.pk)
        unit_id = None
        if confirm.is_valid():
            unit_id = confirm.cleaned_data["unit_id"]
            if not Unit.objects.filter(pk=unit_id, hardware_id=normalize_hardware_id(posted_hardware_id)).exists():
                confirm.add_error(None, _("The details changed after they were checked. Check the code again."))
                confirm.refusal = "confirmation_tampered"
        if confirm.errors:
            redeem_refusal_record(
                reason=confirm.refusal or "confirmation_tampered",
                actor=actor,
                client_address=address,
                **_identify(posted_code, posted_hardware_id),
            )
            form = self._refill(request, units, code=posted_code, hardware_id=posted_hardware_id)
            for message in confirm.non_field_errors() or [_("The details changed after they were checked. Check the code again.")]:
                form.add_error(None, message)
            return self._render_form(request, form, status=400)
        try:
            code = code_redeem(
                code_text=confirm.cleaned_data["code"],
                hardware_id=confirm.cleaned_data["hardware_id"],
                actor=actor,
                client_address=address,
            )
        except DomainError as error:  # recorded by the service
            form = self._refill(request, units, code=posted_code, hardware_id=posted_hardware_id, unit_id=unit_id)
            form.add_error(_field_for(error.code, form), _answer(error))
            return self._render_form(request, form, status=409)
        unit = code.unit
        signed_in = actor.pk is not None
        request.session[SESSION_DONE] = {
            "unit": unit.name if signed_in else mask_name(unit.name),
            "period_days": code.period_days,
            "starts_at": code.activated_at.isoformat(),
            "ends_at": code.expires_at.isoformat(),
            "scheduled": code.activated_at > timezone.now(),
            "tz": unit.owner.time_zone,
        }
        return redirect("redeem:done")


@method_decorator(never_cache, name="dispatch")
class RedeemDoneView(View):
    template_name = "redeem/done.html"

    def get(self, request):
        done = request.session.pop(SESSION_DONE, None)
        if not done:
            return redirect("redeem:redeem")
        context = {
            **done,
            "starts_at": datetime.fromisoformat(done["starts_at"]),
            "ends_at": datetime.fromisoformat(done["ends_at"]),
        }
        return render(request, self.template_name, context)
