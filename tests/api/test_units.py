"""Units over the API: the call a tracking server makes before accepting a unit's data."""

from codes.services import code_attach
from tests import factories
from tests.api.conftest import assert_error


def test_given_a_unit_with_running_and_scheduled_codes_when_read_then_its_cover_is_told(
    network, api_for, acme_codes, harvest_unit
):
    running = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    scheduled = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)

    response = api_for(network.north_admin).get(f"/api/v1/units/{harvest_unit.hardware_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "active"
    assert body["running"]["code"] == running.display_text and body["running"]["state"] == "running"
    assert [c["code"] for c in body["scheduled"]] == [scheduled.display_text]
    assert body["scheduled"][0]["state"] == "scheduled"
    assert body["covered_until"] == body["scheduled"][0]["expires_at"]
    assert body["days_left"] in (59, 60)
    assert body["owner"] == {"id": network.harvest.pk, "name": "Harvest Co", "kind": "customer"}


def test_given_a_unit_without_codes_when_read_then_it_is_deactivated(network, api_for, harvest_unit):
    body = api_for(network.harvest_user).get(f"/api/v1/units/{harvest_unit.hardware_id}/").json()
    assert body["state"] == "deactivated" and body["running"] is None and body["scheduled"] == []
    assert body["covered_until"] is None and body["days_left"] == 0


def test_given_the_hot_path_when_a_token_reads_a_unit_then_it_costs_at_most_three_queries(
    network, api_for, acme_codes, harvest_unit, django_assert_max_num_queries
):
    for code in acme_codes[:3]:
        code_attach(code=code, unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.provider_operator)
    api.get(f"/api/v1/units/{harvest_unit.hardware_id}/")  # the first call records last_used_at
    # token (with user and account), unit (with owner), its codes
    with django_assert_max_num_queries(3):
        assert api.get(f"/api/v1/units/{harvest_unit.hardware_id}/").status_code == 200


def test_given_a_unit_of_another_branch_or_provider_when_read_then_404(network, api_for, harvest_unit):
    assert_error(api_for(network.south_admin).get(f"/api/v1/units/{harvest_unit.hardware_id}/"), 404, "not_found")
    assert_error(api_for(network.rival_admin).get(f"/api/v1/units/{harvest_unit.hardware_id}/"), 404, "not_found")
    assert_error(api_for(network.provider_admin).get("/api/v1/units/NO-SUCH-UNIT/"), 404, "not_found")


def test_given_a_hardware_id_typed_loosely_when_read_then_the_unit_is_found(network, api_for):
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="AB12CD")
    assert api_for(network.provider_admin).get("/api/v1/units/ab12cd/").json()["hardware_id"] == unit.hardware_id


def test_given_units_when_listed_then_scope_and_filters_apply(network, api_for, acme_codes, harvest_unit, south_unit):
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    provider = api_for(network.provider_admin)

    def ids(params=None, api=provider):
        response = api.get("/api/v1/units/", params or {})
        assert response.status_code == 200, response.content
        return {u["hardware_id"] for u in response.json()["results"]}

    assert ids() == {harvest_unit.hardware_id, south_unit.hardware_id}
    assert ids(api=api_for(network.north_admin)) == {harvest_unit.hardware_id}
    assert ids(api=api_for(network.rival_admin)) == set()
    assert ids({"state": "active"}) == {harvest_unit.hardware_id}
    assert ids({"state": "deactivated"}) == {south_unit.hardware_id}
    assert ids({"owner": network.north.pk}) == set()
    assert ids({"owner": network.north.pk, "owner_below": "true"}) == {harvest_unit.hardware_id}
    assert ids({"q": "van"}) == {south_unit.hardware_id}
    assert ids({"no_code": "true"}) == {south_unit.hardware_id}
    assert ids({"expires_within": 31}) == {harvest_unit.hardware_id}
    assert ids({"expires_within": 10}) == set()
    listed = provider.get("/api/v1/units/", {"state": "active"}).json()["results"][0]
    assert listed["state"] == "active" and listed["covered_until"]
    assert_error(api_for(network.north_admin).get("/api/v1/units/", {"owner": network.south.pk}), 400, "validation_error")
