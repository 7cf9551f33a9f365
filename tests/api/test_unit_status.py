"""The unit-status call, `GET /api/v1/units/{hardware id}/` with a token, as a tracking server asks
it before accepting a unit's data.

What must hold: the answer is the unit's cover now; a warm call asks the database nothing; every
change to a unit, its codes, its owner, the caller's token, user or account shows in the very
next answer; time passing changes the answer without any write; nobody sees another branch's or
provider's unit. Every test commits as production does (`transaction=True`): the services drop
the cached answers once they commit.
"""

import pytest
from django.db import transaction

from cms.authentication import api_token_delete
from cms.models import ApiToken
from cms.services import account_disable, account_update, user_disable
from codes.cover import unit_cover
from codes.services import (
    account_move_customer,
    code_attach,
    code_redeem,
    code_release,
    codes_archive_expired,
    codes_expire_due,
)
from tests import factories
from tests.api.conftest import assert_error
from tests.domain.support import DAY, T0
from units.api.serializers import UnitDetailSerializer
from units.models import Unit
from units.services import unit_update

pytestmark = pytest.mark.django_db(transaction=True)


def url(unit) -> str:
    return f"/api/v1/units/{unit.hardware_id}/"


def status(api, unit) -> dict:
    response = api.get(url(unit))
    assert response.status_code == 200, response.content
    return response.json()


def from_the_database(unit) -> dict:
    """The answer built afresh from the database: the unit, its cover now, the serializer."""
    unit = Unit.objects.select_related("owner").get(pk=unit.pk)
    unit.cover = unit_cover(unit)
    return UnitDetailSerializer(unit).data


def assert_current(api, unit) -> dict:
    body = status(api, unit)
    assert body == from_the_database(unit)
    return body


# --- the answer ----------------------------------------------------------------------------------


def test_given_a_unit_without_codes_when_asked_twice_then_both_answers_say_deactivated(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    assert assert_current(api, harvest_unit)["state"] == "deactivated"
    assert assert_current(api, harvest_unit)["state"] == "deactivated"  # warm now


def test_given_running_and_scheduled_codes_and_unusual_names_when_asked_then_every_level_gets_the_cover(
    network, api_for, acme_codes
):
    unit = factories.unit(network.harvest, actor=network.provider_admin, name="Trактор “Ø” \u2028 7", hardware_id="ab-12 cd")
    unit_update(actor=network.provider_admin, unit=unit, name=unit.name, device_type="FMB920 ✓")
    for code in acme_codes[:3]:
        code_attach(code=code, unit=unit, actor=network.provider_admin)
    for user in (network.provider_admin, network.north_admin, network.north_farms_operator, network.harvest_user):
        body = assert_current(api_for(user), unit)
        assert body["state"] == "active" and len(body["scheduled"]) == 2


def test_given_a_hardware_id_typed_loosely_when_asked_then_the_unit_is_found(network, api_for):
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="AB12CD")
    api = api_for(network.provider_admin)
    assert api.get("/api/v1/units/ab12cd/").json()["hardware_id"] == "AB12CD"
    assert api.get("/api/v1/units/%20Ab12cD%20/").json() == from_the_database(unit)


def test_given_a_warm_answer_and_token_when_asked_again_then_no_query_is_made(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    for code in acme_codes[:3]:
        code_attach(code=code, unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.provider_operator)
    status(api, harvest_unit)  # looks the token and the unit up, and keeps both

    with django_assert_num_queries(0):
        status(api, harvest_unit)


def test_given_an_answer_kept_for_one_caller_when_another_of_the_tree_asks_then_only_its_token_is_looked_up(
    network, api_for, harvest_unit, django_assert_num_queries
):
    status(api_for(network.provider_admin), harvest_unit)
    north = api_for(network.north_admin)
    with django_assert_num_queries(2):  # its token (with user and account) and its last_used_at
        status(north, harvest_unit)
    with django_assert_num_queries(0):
        status(north, harvest_unit)


# --- every change shows at once ------------------------------------------------------------------


def test_given_a_warm_answer_when_codes_are_attached_then_the_next_answer_shows_them(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.north_admin)
    assert status(api, harvest_unit)["state"] == "deactivated"

    running = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    body = assert_current(api, harvest_unit)
    assert body["state"] == "active" and body["running"]["code"] == running.display_text

    scheduled = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    assert [c["code"] for c in assert_current(api, harvest_unit)["scheduled"]] == [scheduled.display_text]


def test_given_a_warm_answer_when_the_running_code_is_released_then_the_scheduled_one_moves_up(
    network, api_for, acme_codes, harvest_unit
):
    running = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    scheduled = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.north_admin)
    assert status(api, harvest_unit)["running"]["code"] == running.display_text

    code_release(code=running, actor=network.provider_admin)

    body = assert_current(api, harvest_unit)
    assert body["running"]["code"] == scheduled.display_text and body["scheduled"] == []


def test_given_a_warm_answer_when_the_last_code_is_released_then_the_unit_is_deactivated(network, api_for, acme_codes, harvest_unit):
    code = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.harvest_user)
    assert status(api, harvest_unit)["state"] == "active"

    code_release(code=code, actor=network.provider_admin)

    assert assert_current(api, harvest_unit)["state"] == "deactivated"


def test_given_a_warm_answer_when_the_customer_redeems_a_code_then_the_next_answer_shows_it(
    network, api_for, acme_codes, harvest_unit
):
    api = api_for(network.harvest_user)
    assert status(api, harvest_unit)["state"] == "deactivated"

    redeemed = code_redeem(code_text=acme_codes[0].display_text, hardware_id=harvest_unit.hardware_id)

    body = assert_current(api, harvest_unit)
    assert body["state"] == "active" and body["running"]["code"] == redeemed.display_text


def test_given_a_warm_answer_when_a_change_is_rolled_back_then_the_answer_stays(
    network, api_for, acme_codes, harvest_unit
):
    api = api_for(network.north_admin)
    before = status(api, harvest_unit)

    with transaction.atomic():
        code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
        transaction.set_rollback(True)

    assert assert_current(api, harvest_unit) == before


def test_given_a_warm_answer_when_the_unit_is_renamed_then_the_next_answer_has_the_new_name(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    status(api, harvest_unit)

    unit_update(actor=network.north_admin, unit=harvest_unit, name="Combine 2", device_type="FMC130")

    body = assert_current(api, harvest_unit)
    assert (body["name"], body["device_type"]) == ("Combine 2", "FMC130")


def test_given_a_warm_answer_when_the_owner_is_renamed_then_the_next_answer_names_it_so(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    status(api, harvest_unit)

    account_update(actor=network.provider_admin, account=network.harvest, name="Harvest Ltd", time_zone="UTC")

    assert assert_current(api, harvest_unit)["owner"]["name"] == "Harvest Ltd"


def test_given_warm_answers_when_the_customer_moves_to_another_branch_then_the_old_branch_gets_404(
    network, api_for, harvest_unit
):
    north, south, harvest = api_for(network.north_admin), api_for(network.south_admin), api_for(network.harvest_user)
    status(north, harvest_unit)
    assert_error(south.get(url(harvest_unit)), 404, "not_found")
    status(harvest, harvest_unit)

    account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.south)

    assert_error(north.get(url(harvest_unit)), 404, "not_found")
    assert assert_current(south, harvest_unit)["owner"]["id"] == network.harvest.pk
    assert assert_current(harvest, harvest_unit)["owner"]["id"] == network.harvest.pk  # its own path changed


def test_given_a_warm_answer_when_the_clock_ends_the_code_and_the_jobs_record_it_then_the_answer_follows(
    network, api_for, acme_codes, harvest_unit, clock
):
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.north_admin)
    assert status(api, harvest_unit)["state"] == "active"

    clock.shift(31 * DAY)
    assert assert_current(api, harvest_unit)["state"] == "deactivated"  # the clock alone ended the code

    assert codes_expire_due().expired == 1
    codes_archive_expired()
    assert assert_current(api, harvest_unit)["state"] == "deactivated"


# --- tokens, users, accounts ---------------------------------------------------------------------


def test_given_a_warm_token_when_it_is_deleted_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    status(api, harvest_unit)
    token = ApiToken.objects.get(user=network.north_admin)

    api_token_delete(user=network.north_admin, token_id=token.pk)

    assert_error(api.get(url(harvest_unit)), 401, "authentication_failed")


def test_given_a_warm_token_when_its_user_is_disabled_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_farms_operator)
    status(api, harvest_unit)

    user_disable(actor=network.north_admin, user=network.north_farms_operator)

    assert_error(api.get(url(harvest_unit)), 401, "authentication_failed")


def test_given_a_warm_token_when_its_account_is_disabled_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_farms_operator)
    status(api, harvest_unit)

    account_disable(actor=network.north_admin, account=network.north_farms)

    assert_error(api.get(url(harvest_unit)), 401, "authentication_failed")


def test_given_a_warm_token_when_an_admin_edits_the_user_directly_then_the_next_call_is_refused(
    network, api_for, harvest_unit
):
    """Writes outside the services (the Django admin, the shell) drop the token's lookup too."""
    api = api_for(network.harvest_user)
    status(api, harvest_unit)
    network.harvest_user.is_active = False
    network.harvest_user.save()
    assert_error(api.get(url(harvest_unit)), 401, "authentication_failed")


# --- time passes, nothing is written -------------------------------------------------------------


def test_given_a_warm_answer_when_time_passes_then_scheduled_codes_start_and_running_ones_end_without_a_write(
    network, api_for, acme_codes, harvest_unit, clock
):
    first = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    second = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.harvest_user)
    body = status(api, harvest_unit)
    assert (body["running"]["code"], body["days_left"]) == (first.display_text, 60)

    clock.move_to(T0 + 10 * DAY)
    body = assert_current(api, harvest_unit)
    assert (body["running"]["code"], body["days_left"]) == (first.display_text, 50)

    clock.move_to(T0 + 30 * DAY)  # the first ends exactly when the second starts
    body = assert_current(api, harvest_unit)
    assert body["state"] == "active" and body["running"]["code"] == second.display_text
    assert body["running"]["state"] == "running" and body["scheduled"] == [] and body["days_left"] == 30

    clock.move_to(T0 + 60 * DAY)
    body = assert_current(api, harvest_unit)
    assert body["state"] == "deactivated" and body["running"] is None and body["covered_until"] is None
    assert body["days_left"] == 0


# --- nobody sees another branch's unit -----------------------------------------------------------


def test_given_a_warm_answer_when_another_branch_or_provider_asks_then_404(network, api_for, harvest_unit):
    status(api_for(network.provider_admin), harvest_unit)  # the answer is warm

    for user in (network.south_admin, network.rival_admin):
        response = api_for(user).get(url(harvest_unit))
        assert_error(response, 404, "not_found")
        assert harvest_unit.name.encode() not in response.content


def test_given_the_same_hardware_id_at_two_providers_when_each_asks_then_each_sees_its_own(network, api_for):
    ours = factories.unit(network.harvest, actor=network.provider_admin, name="Ours", hardware_id="777")
    theirs = factories.unit(network.rival_customer, actor=network.rival_admin, name="Theirs", hardware_id="777")
    acme, rival = api_for(network.provider_admin), api_for(network.rival_admin)
    for _ in range(2):
        assert status(acme, ours)["name"] == "Ours"
        assert status(rival, theirs)["name"] == "Theirs"


# --- the API's own answers -------------------------------------------------------------------------


def test_given_no_token_or_a_wrong_one_when_asking_then_the_apis_401(db, harvest_unit):
    from rest_framework.test import APIClient

    response = APIClient().get(url(harvest_unit))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert_error(client.get(url(harvest_unit)), 401, "authentication_failed")


def test_given_a_signed_in_browser_when_asking_then_the_api_answers(network, client, harvest_unit):
    client.force_login(network.north_admin)
    assert client.get(url(harvest_unit), HTTP_ACCEPT="application/json").json()["hardware_id"] == harvest_unit.hardware_id
    assert b"<html" in client.get(url(harvest_unit), HTTP_ACCEPT="text/html").content  # the browsable API


def test_given_another_method_when_calling_then_the_apis_405(network, api_for, harvest_unit):
    assert_error(api_for(network.provider_admin).post(url(harvest_unit), {}, format="json"), 405, "method_not_allowed")
