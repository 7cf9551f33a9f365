"""Bulk "apply codes" on the Units page: choose a period, see the pairing, confirm; all-or-nothing."""

import pytest
from django.urls import reverse

from audit.models import Action, Event
from codes.cover import unit_is_active
from codes.models import Code, CodeState
from codes.pairing import pair_units_with_codes
from codes.rules import code_state
from codes.services import code_attach, code_share, codes_send_by_email
from tests import factories

URL = reverse("units:bulk_apply_codes")


def choose(client, units, **extra):
    return client.post(URL, {"pk": [u.pk for u in units], **extra})


def pair(client, units, period, **extra):
    return client.post(URL, {"pk": [u.pk for u in units], "period_days": period, "_pair": "1", **extra})


def shown_pairs(response) -> list[str]:
    return [f"{unit.pk}:{code.pk}" for unit, code in response.context["pairing"].pairs]


def confirm(client, units, period, pairs, **extra):
    return client.post(
        URL, {"pk": [u.pk for u in units], "period_days": period, "pair": pairs, "_confirm": "1", **extra}
    )


@pytest.fixture
def stock(network):
    """Codes of 365 days: two held by the provider, one shared down to North Farms Dealer."""
    admin = network.provider_admin
    at_provider = factories.codes(admin, quantity=2, period_days=365)
    (at_farms,) = factories.codes(admin, quantity=1, period_days=365)
    code_share(code=at_farms, to_account=network.north_farms, actor=admin)
    return {"provider": at_provider, "farms": Code.objects.get(pk=at_farms.pk)}


def test_given_a_selection_when_posted_then_the_periods_of_available_codes_are_offered(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    response = choose(client, [fleet.harvest_trailer, fleet.north_box])
    assert response.status_code == 200
    assert [value for value, _label in response.context["form"].fields["period_days"].choices] == [365]
    assert response.context["count"] == 2


def test_given_a_period_when_pairing_then_each_unit_gets_a_code_held_closest_to_it(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    response = pair(client, [fleet.harvest_trailer, fleet.north_box], 365)
    assert response.status_code == 200
    assert response.context["step"] == "confirm"
    pairing = dict((unit.pk, code.pk) for unit, code in response.context["pairing"].pairs)
    # The trailer (Harvest Co, below North Farms Dealer) takes the code shared down to its branch;
    # the North box can only use the provider's stock.
    assert pairing[fleet.harvest_trailer.pk] == stock["farms"].pk
    assert pairing[fleet.north_box.pk] in {c.pk for c in stock["provider"]}
    assert 'name="pair"' in response.content.decode()
    assert not Event.objects.filter(action=Action.ATTACHED, unit__in=[fleet.harvest_trailer, fleet.north_box]).exists()


def test_given_the_pairing_when_confirmed_then_codes_start_or_queue_and_units_turn_active(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    units = [fleet.harvest_trailer, fleet.harvest_truck]
    pairs = shown_pairs(pair(client, units, 365))
    response = confirm(client, units, 365, pairs, _return=reverse("units:list"))
    assert response.status_code == 302
    follow = client.get(response.url)
    message = [str(m) for m in follow.context["messages"]][0]
    assert "2 codes applied" in message and "1 started now" in message and "1 is scheduled" in message
    assert unit_is_active(fleet.harvest_trailer)
    for value in pairs:
        unit_id, code_id = map(int, value.split(":"))
        code = Code.objects.get(pk=code_id)
        assert code.unit_id == unit_id
    truck_new = Code.objects.get(pk=int(next(v for v in pairs if v.startswith(f"{fleet.harvest_truck.pk}:")).split(":")[1]))
    assert code_state(truck_new) == CodeState.SCHEDULED  # behind the truck's running and scheduled codes


def test_given_no_code_of_the_period_left_when_pairing_then_every_unpaired_unit_is_listed_and_nothing_changes(
    client, network, fleet, stock
):
    client.force_login(network.provider_operator)
    # Three units, but the South van can only use the provider's 2 codes, the others too: 2 for 3.
    units = [fleet.harvest_trailer, fleet.north_box, fleet.south_van]
    extra_unit = factories.unit(network.south_rentals, network.provider_admin, hardware_id="350000000000077")
    units.append(extra_unit)
    before = list(Code.objects.order_by("pk").values_list("pk", "unit_id", "activated_at"))
    response = pair(client, units, 365)
    assert response.status_code == 409
    assert response.context["error"].refusals
    html = response.content.decode()
    assert "No available code of 365 days" in html
    assert 'name="_confirm"' not in html
    assert list(Code.objects.order_by("pk").values_list("pk", "unit_id", "activated_at")) == before


def test_given_a_period_without_codes_when_pairing_then_the_form_refuses_it(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    response = pair(client, [fleet.harvest_trailer], 30)  # the 30-day codes are all on units
    assert response.status_code == 400
    assert response.context["form"].errors["period_days"]


def test_given_a_code_used_meanwhile_when_confirming_then_nothing_changes_and_the_reason_shows(
    client, network, fleet, stock
):
    client.force_login(network.provider_operator)
    units = [fleet.harvest_trailer, fleet.north_box]
    pairs = shown_pairs(pair(client, units, 365))
    # Meanwhile somebody else applies the trailer's code to another unit
    trailer_code = int(next(v for v in pairs if v.startswith(f"{fleet.harvest_trailer.pk}:")).split(":")[1])
    other = factories.unit(network.harvest, network.provider_admin, hardware_id="350000000000088")
    code_attach(code=trailer_code, unit=other, actor=network.provider_admin)
    response = confirm(client, units, 365, pairs)
    assert response.status_code == 409
    assert "already in use" in response.content.decode()
    assert not unit_is_active(fleet.harvest_trailer) and not unit_is_active(fleet.north_box)


def test_given_pairs_for_other_units_than_selected_when_confirming_then_it_is_refused(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    pairs = shown_pairs(pair(client, [fleet.harvest_trailer, fleet.north_box], 365))
    response = confirm(client, [fleet.harvest_trailer], 365, pairs)
    assert response.status_code == 409
    assert not unit_is_active(fleet.harvest_trailer)


def test_given_a_code_of_another_provider_in_the_pairs_when_confirming_then_404(client, network, fleet, stock):
    rival_code = factories.codes(network.rival_admin, quantity=1, period_days=365)[0]
    client.force_login(network.provider_operator)
    response = confirm(client, [fleet.harvest_trailer], 365, [f"{fleet.harvest_trailer.pk}:{rival_code.pk}"])
    assert response.status_code == 404
    assert Code.objects.get(pk=rival_code.pk).unit_id is None


def test_given_a_unit_of_another_provider_when_selected_then_404(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    assert choose(client, [fleet.rival_unit]).status_code == 404


def test_given_a_viewer_when_applying_codes_then_refused(client, network, fleet, stock):
    client.force_login(network.provider_viewer)
    assert choose(client, [fleet.harvest_trailer]).status_code == 403


def test_given_all_matching_the_filter_when_pairing_then_only_filtered_units_are_paired(client, network, fleet, stock):
    client.force_login(network.provider_operator)
    response = client.post(URL, {"_all": "1", "_query": f"no_code=on&owner={network.north.pk}&owner_below=on",
                                 "period_days": 365, "_pair": "1"})
    assert response.status_code == 200
    assert sorted(u.pk for u, _c in response.context["pairing"].pairs) == sorted(
        [fleet.harvest_trailer.pk, fleet.north_box.pk]
    )


def test_given_a_reseller_when_pairing_then_only_its_own_branchs_codes_are_used(network, fleet, stock):
    # North Sales' admin sees none of the provider's codes: only the one shared to North Farms.
    pairing = pair_units_with_codes(user=network.north_admin, units=[fleet.harvest_trailer, fleet.north_box], period_days=365)
    assert [(u.pk, c.pk) for u, c in pairing.pairs] == [(fleet.harvest_trailer.pk, stock["farms"].pk)]
    assert [u.unit.pk for u in pairing.unpaired] == [fleet.north_box.pk]


def test_given_an_anonymous_visitor_when_applying_codes_then_sent_to_sign_in(client, fleet):
    response = choose(client, [fleet.harvest_trailer])
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_given_a_get_when_opening_apply_codes_then_it_asks_to_choose_rows_first(client, network, fleet):
    client.force_login(network.provider_operator)
    assert client.get(URL).status_code == 400


def test_given_a_user_without_available_codes_when_applying_then_it_says_so_and_offers_no_pairing(
    client, network, fleet
):
    client.force_login(network.harvest_user)  # Harvest Co holds no code
    response = choose(client, [fleet.harvest_trailer])
    assert response.status_code == 200
    html = response.content.decode()
    assert "You have no available codes to apply." in html and 'name="_pair"' not in html


def test_given_codes_in_a_branch_and_at_the_top_when_pairing_then_branch_codes_go_to_branch_units_first(network, fleet):
    # One code shared down to North Sales, one kept by the provider. The trailer (below North)
    # could use either; the South van only the provider's. Both must be paired.
    admin = network.provider_admin
    at_top, for_north = factories.codes(admin, quantity=2, period_days=180)
    code_share(code=for_north, to_account=network.north, actor=admin)
    for units in ([fleet.south_van, fleet.harvest_trailer], [fleet.harvest_trailer, fleet.south_van]):
        pairing = pair_units_with_codes(user=network.provider_operator, units=units, period_days=180)
        assert pairing.complete
        assert {u.pk: c.pk for u, c in pairing.pairs} == {
            fleet.harvest_trailer.pk: for_north.pk,
            fleet.south_van.pk: at_top.pk,
        }


# --- codes e-mailed to someone are kept for them ----------------------------------------------


def test_given_the_closest_code_was_emailed_when_pairing_then_the_unit_gets_another_and_the_mailed_one_stays(
    client, network, fleet, stock
):
    codes_send_by_email(codes=[stock["farms"]], actor=network.provider_admin, recipient="driver@harvest.example")
    client.force_login(network.provider_operator)

    response = pair(client, [fleet.harvest_trailer], 365)

    assert response.status_code == 200 and response.context["step"] == "confirm"
    [(unit, code)] = response.context["pairing"].pairs
    assert unit == fleet.harvest_trailer and code.pk in {c.pk for c in stock["provider"]}
    attach = confirm(client, [fleet.harvest_trailer], 365, shown_pairs(response))
    assert attach.status_code == 302
    assert code_state(Code.objects.get(pk=stock["farms"].pk)) == CodeState.AVAILABLE


def test_given_every_code_of_a_period_was_emailed_when_applying_then_the_period_is_not_offered(
    client, network, fleet, stock
):
    every = [stock["farms"], *stock["provider"]]
    codes_send_by_email(codes=every, actor=network.provider_admin, recipient="driver@harvest.example")
    client.force_login(network.provider_operator)

    response = choose(client, [fleet.harvest_trailer])

    assert response.context["periods"] == []
    assert "You have no available codes to apply." in response.content.decode()
    paired = pair(client, [fleet.harvest_trailer], 365)
    assert paired.status_code == 400 and not Event.objects.filter(action=Action.ATTACHED, unit=fleet.harvest_trailer).exists()


def test_given_a_pairing_shown_when_its_code_is_emailed_before_the_confirmation_then_nothing_is_attached(
    client, network, fleet, stock
):
    client.force_login(network.provider_operator)
    response = pair(client, [fleet.harvest_trailer], 365)
    [(_unit, code)] = response.context["pairing"].pairs
    codes_send_by_email(codes=[code], actor=network.provider_admin, recipient="driver@harvest.example")

    refused = confirm(client, [fleet.harvest_trailer], 365, shown_pairs(response))

    assert refused.status_code == 409
    assert "Reserved for driver@harvest.example since" in refused.content.decode()
    assert Code.objects.get(pk=code.pk).unit_id is None
