"""Batches (provider admins), accounts (the caller's subtree) and the report (audit events)."""

import pytest

from audit.models import Action
from codes.models import Batch
from codes.services import code_attach, code_share
from tests import factories
from tests.api.conftest import assert_error

BATCH = {"quantity": 3, "period_days": 90, "unit_price": "12.50", "currency": "eur", "note": "spring promo"}


# --- batches ------------------------------------------------------------------------------------


def test_given_a_provider_admin_when_posting_a_batch_then_its_codes_are_generated(network, api_for):
    response = api_for(network.provider_admin).post("/api/v1/batches/", BATCH, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "ready" and body["generated_count"] == 3
    assert body["currency"] == "EUR" and body["unit_price"] == "12.50" and body["created_by"] == "acme-admin"
    batch = Batch.objects.get(pk=body["id"])
    assert batch.codes.count() == 3 and batch.provider == network.provider


def test_given_batches_of_two_providers_when_listed_then_each_sees_its_own(network, api_for):
    acme = factories.batch(network.provider_admin)
    rival = factories.batch(network.rival_admin)
    api = api_for(network.provider_admin)
    assert [b["id"] for b in api.get("/api/v1/batches/").json()["results"]] == [acme.pk]
    assert api.get(f"/api/v1/batches/{acme.pk}/").json()["quantity"] == acme.quantity
    assert_error(api.get(f"/api/v1/batches/{rival.pk}/"), 404, "not_found")


@pytest.mark.parametrize("who", ["provider_operator", "provider_viewer", "north_admin", "harvest_user"])
def test_given_anyone_but_a_provider_admin_when_using_batches_then_403(network, api_for, who):
    api = api_for(getattr(network, who))
    assert_error(api.get("/api/v1/batches/"), 403, "permission_denied")
    assert_error(api.post("/api/v1/batches/", BATCH, format="json"), 403, "permission_denied")
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"quantity": 0}, "quantity"),
        ({"period_days": 0}, "period_days"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"currency": "E1"}, "currency"),
        ({"use_by": "2000-01-01"}, "use_by"),
    ],
)
def test_given_bad_batch_terms_when_posting_then_400_naming_the_field(network, api_for, change, field):
    response = api_for(network.provider_admin).post("/api/v1/batches/", {**BATCH, **change}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert field in [d["item"] for d in error["details"]]
    assert not Batch.objects.exists()


# --- accounts -----------------------------------------------------------------------------------


def test_given_a_reseller_when_listing_accounts_then_it_sees_its_subtree_in_tree_order(network, api_for):
    results = api_for(network.north_admin).get("/api/v1/accounts/").json()["results"]
    assert [(a["name"], a["parent"]) for a in results] == [
        ("North Sales", network.provider.pk),
        ("North Farms Dealer", network.north.pk),
        ("Harvest Co", network.north_farms.pk),
    ]


def test_given_an_account_of_another_branch_when_read_then_404(network, api_for):
    api = api_for(network.north_admin)
    assert api.get(f"/api/v1/accounts/{network.harvest.pk}/").json()["kind"] == "customer"
    assert_error(api.get(f"/api/v1/accounts/{network.south.pk}/"), 404, "not_found")
    assert_error(api.get(f"/api/v1/accounts/{network.rival.pk}/"), 404, "not_found")


def test_given_account_filters_when_listing_then_they_apply(network, api_for):
    api = api_for(network.provider_admin)
    customers = api.get("/api/v1/accounts/", {"kind": "customer"}).json()["results"]
    assert {a["name"] for a in customers} == {"Harvest Co", "South Rentals"}
    assert [a["name"] for a in api.get("/api/v1/accounts/", {"q": "farms"}).json()["results"]] == ["North Farms Dealer"]


# --- events (the report) ------------------------------------------------------------------------


def events(api, **params):
    response = api.get("/api/v1/events/", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_given_changes_in_two_branches_when_reading_the_report_then_each_sees_its_own(network, api_for, acme_codes, harvest_unit):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    code_share(code=acme_codes[1], to_account=network.south, actor=network.provider_admin)
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.north_admin)

    north = events(api_for(network.north_admin))
    # Its branch's accounts were created, and its admin's token (the one this client sends).
    assert {e["action"] for e in north} == {"shared", "attached", "unit_activated", "account_created", "token_created"}
    assert {e["code"] for e in north if e["code"]} == {acme_codes[0].display_text}
    assert not any(e["action"] == "generated" for e in north)  # the provider's own events stay above

    provider = events(api_for(network.provider_viewer))
    assert {e["action"] for e in provider} >= {"generated", "shared", "attached", "unit_activated"}
    assert {e["action"] for e in events(api_for(network.rival_admin))} == {"account_created", "token_created"}


def test_given_report_filters_when_reading_then_they_apply(network, api_for, acme_codes, harvest_unit):
    code_share(code=acme_codes[0], to_account=network.north, actor=network.provider_admin)
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.north_admin)
    api = api_for(network.provider_admin)

    assert {e["action"] for e in events(api, action="shared")} == {"shared"}
    assert {e["action"] for e in events(api, action=["shared", "attached"])} == {"shared", "attached"}
    by_code = events(api, code=acme_codes[0].display_text.lower())
    assert {e["action"] for e in by_code} == {"generated", "shared", "attached"}
    assert {e["action"] for e in events(api, unit=harvest_unit.hardware_id)} == {"attached", "unit_activated"}
    shared = events(api, action="shared")[0]
    assert shared["from_account"] == network.provider.pk and shared["to_account"] == network.north.pk
    # The account an event belongs to is the code's holder after the change (or the unit's owner).
    assert {e["action"] for e in events(api, account=network.north.pk)} == {"shared", "attached", "account_created"}
    assert {e["action"] for e in events(api, account=network.north.pk, account_below="true")} == {
        "shared", "attached", "unit_activated", "account_created"
    }
    assert events(api, occurred_after="2999-01-01T00:00:00Z") == []
    assert len(events(api, occurred_before="2999-01-01T00:00:00Z")) == len(events(api))
    assert_error(api.get("/api/v1/events/", {"action": "nonsense"}), 400, "validation_error")
    assert_error(api.get("/api/v1/events/", {"occurred_after": "yesterday"}), 400, "validation_error")


def test_given_an_event_of_another_branch_when_read_by_id_then_404(network, api_for, acme_codes):
    code_share(code=acme_codes[0], to_account=network.south, actor=network.provider_admin)
    shared = events(api_for(network.provider_admin), action=Action.SHARED)[0]
    assert api_for(network.south_admin).get(f"/api/v1/events/{shared['id']}/").status_code == 200
    assert_error(api_for(network.north_admin).get(f"/api/v1/events/{shared['id']}/"), 404, "not_found")
