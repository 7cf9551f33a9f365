"""Whatever the reason no unit can take a code (its hardware id is unknown, belongs to another
provider's unit, or to a unit outside the holder's branch), the page, the API and the preview give
one answer, so nobody can probe which hardware ids exist at other providers."""

import pytest

from audit.models import Action, Event
from cms.actors import ANONYMOUS
from cms.errors import DomainError
from codes.models import CodeState
from codes.services import redeem_preview

from .conftest import check, state_of
from .test_redeem_rate_limits import api_client, api_redeem

UNKNOWN = "356938035649999"


def hardware_ids(shop) -> dict[str, str]:
    """The ways a hardware id can fail North's codes: no unit anywhere, Rival's unit, South's unit."""
    return {"unknown": UNKNOWN, "rival": shop.rival_unit.hardware_id, "outside_branch": shop.south_unit.hardware_id}


def page_answer(response) -> tuple:
    form = response.context["form"]
    return response.status_code, response.context["step"], sorted(form.errors.items())


def refusal_reasons() -> list[str]:
    return [e.details["reason"] for e in Event.objects.filter(action=Action.REDEEM_REFUSED).order_by("pk")]


def test_given_a_valid_code_when_checked_on_the_page_with_each_hardware_id_no_unit_can_take_then_one_answer(
    shop, visitor
):
    answers = {why: page_answer(check(visitor, shop.codes[0].text, typed)) for why, typed in hardware_ids(shop).items()}

    assert answers["rival"] == answers["unknown"] == answers["outside_branch"]
    status, step, errors = answers["unknown"]
    assert (status, step) == (200, "check")
    assert errors == [("hardware_id", ["No unit with this hardware id can take this code."])]
    assert refusal_reasons() == ["unit_not_eligible"] * 3
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


def test_given_a_rival_code_when_checked_with_an_acme_hardware_id_then_the_answer_of_an_unknown_hardware_id(
    shop, visitor
):
    """The other way round: the rival's customer learns nothing of Acme's units."""
    acme = page_answer(check(visitor, shop.rival_code.text, shop.unit.hardware_id))
    unknown = page_answer(check(visitor, shop.rival_code.text, UNKNOWN))

    assert acme == unknown
    assert refusal_reasons() == ["unit_not_eligible"] * 2


def test_given_a_valid_code_when_redeemed_through_the_api_with_each_hardware_id_no_unit_can_take_then_one_answer(
    shop
):
    api = api_client(shop.customer)
    answers = {}
    for why, typed in hardware_ids(shop).items():
        response = api_redeem(api, shop.codes[0].text, typed)
        answers[why] = (response.status_code, response.json())

    assert answers["rival"] == answers["unknown"] == answers["outside_branch"]
    assert answers["unknown"] == (
        400,
        {"error": {"code": "unit_not_eligible", "message": "No unit with this hardware id can take this code.",
                   "details": []}},
    )
    assert state_of(shop.codes[0]) == CodeState.AVAILABLE


@pytest.mark.parametrize("actor", ["anonymous", "harvest_user", "north_admin"])
def test_given_a_valid_code_when_previewed_with_each_hardware_id_no_unit_can_take_then_the_same_refusal(shop, actor):
    who = ANONYMOUS if actor == "anonymous" else getattr(shop.network, actor)
    answers = {}
    for why, typed in hardware_ids(shop).items():
        with pytest.raises(DomainError) as refused:
            redeem_preview(code_text_typed=shop.codes[0].text, hardware_id=typed, actor=who)
        answers[why] = (refused.value.code, refused.value.message, refused.value.refusals)

    assert answers["rival"] == answers["unknown"] == answers["outside_branch"]
    assert answers["unknown"] == ("unit_not_eligible", "No unit with this hardware id can take this code.", [])
