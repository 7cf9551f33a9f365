"""The confirmation step's preview says what `code_redeem` then does: the same refusal code, or
the same unit and cover end. Checked on every outcome, so the two cannot drift apart."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cms.actors import ANONYMOUS
from cms.errors import DomainError
from codes import text as code_text
from codes.services import code_attach, code_redeem, code_release, code_revoke, redeem_preview
from tests import factories


def outcome(fn):
    try:
        result = fn()
    except DomainError as error:
        return ("refused", error.code)
    return ("ok", result)


def compare(*, typed: str, hardware_id: str, actor=ANONYMOUS):
    now = timezone.now()
    preview = outcome(lambda: redeem_preview(code_text_typed=typed, hardware_id=hardware_id, actor=actor, now=now))
    done = outcome(lambda: code_redeem(code_text=typed, hardware_id=hardware_id, actor=actor, now=now))
    if preview[0] == "refused" or done[0] == "refused":
        assert preview == done
        return preview[1]
    shown, code = preview[1], done[1]
    assert (shown.code.pk, shown.unit.pk) == (code.pk, code.unit_id)
    assert shown.ends_at == code.expires_at and shown.starts_at == code.activated_at
    return "ok"


SCENARIOS = [
    "available_on_free_unit", "available_behind_cover", "released_on_free_unit", "released_on_covered_unit",
    "mistyped", "unknown", "other_provider_unit", "revoked", "use_by_passed", "already_used", "expired",
    "unknown_unit", "outside_branch", "customer_other_customers_unit", "customer_rival_code", "viewer",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_given_each_outcome_when_previewed_then_code_redeem_does_exactly_that(shop, scenario):
    n = shop.network
    code, unit, actor = shop.codes[0], shop.unit, ANONYMOUS
    typed, hardware_id = code.text, unit.hardware_id
    expected = "ok"
    if scenario == "available_behind_cover":
        code_attach(code=shop.codes[1], unit=unit, actor=n.north_admin)
    elif scenario in ("released_on_free_unit", "released_on_covered_unit"):
        with time_machine.travel(timezone.now() - timedelta(days=3)):
            code_attach(code=code, unit=shop.other_unit, actor=n.north_admin)
            code_release(code=code, actor=n.north_admin)
        if scenario == "released_on_covered_unit":
            code_attach(code=shop.codes[1], unit=unit, actor=n.north_admin)
            expected = "unit_covered"
    elif scenario == "mistyped":
        typed, expected = typed[:-1] + ("0" if typed[-1] != "0" else "1"), "code_mistyped"
    elif scenario == "unknown":
        typed, expected = code_text.generate(), "code_not_valid"
    elif scenario == "other_provider_unit":
        hardware_id, expected = shop.rival_unit.hardware_id, "unit_not_eligible"
    elif scenario == "revoked":
        [code] = factories.codes(n.provider_admin, quantity=1)
        code_revoke(code=code, actor=n.provider_admin)
        typed, expected = code.text, "code_not_valid"
    elif scenario == "use_by_passed":
        use_by = timezone.now().date() - timedelta(days=1)
        with time_machine.travel(timezone.now() - timedelta(days=5)):
            [code] = factories.codes(n.provider_admin, quantity=1, use_by=use_by)
        typed, expected = code.text, "code_not_valid"
    elif scenario == "already_used":
        code_attach(code=code, unit=shop.other_unit, actor=n.north_admin)
        expected = "code_already_used"
    elif scenario == "expired":
        with time_machine.travel(timezone.now() - timedelta(days=31)):
            code_attach(code=code, unit=shop.other_unit, actor=n.north_admin)
        expected = "code_expired"
    elif scenario == "unknown_unit":
        hardware_id, expected = "NOPE", "unit_not_eligible"
    elif scenario == "outside_branch":
        hardware_id, expected = shop.south_unit.hardware_id, "unit_not_eligible"
    elif scenario == "customer_other_customers_unit":
        actor = shop.customer
        [code] = factories.codes(n.provider_admin, quantity=1)
        typed, hardware_id, expected = code.text, shop.south_unit.hardware_id, "unit_not_eligible"
    elif scenario == "customer_rival_code":
        actor, typed, expected = shop.customer, shop.rival_code.text, "code_not_valid"
    elif scenario == "viewer":
        actor, expected = factories.user(n.harvest, "viewer"), "permission_denied"

    assert compare(typed=typed, hardware_id=hardware_id, actor=actor) == expected
