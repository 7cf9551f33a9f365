"""The Accounts section as people use it: the tree with its counts, managing accounts and users,
stock per account. Who may see which button."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms.models import Account, User
from codes.network import account_tree, stock_per_account
from codes.services import code_attach, code_revoke, code_share
from tests import factories


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def stocked(network):
    """North holds 3 codes of 30 days and 2 of 90 days; Harvest has two units, one running a
    code the farms dealer attached; South holds one revoked code."""
    thirty = factories.codes(network.provider_admin, quantity=4, period_days=30)
    ninety = factories.codes(network.provider_admin, quantity=2, period_days=90)
    for code in thirty[:3] + ninety:
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    running = thirty[3]
    code_share(code=running, to_account=network.north_farms, actor=network.provider_admin)
    unit = factories.unit(network.harvest, name="Combine 7")
    factories.unit(network.harvest, name="Tractor 2")
    code_attach(code=running, unit=unit, actor=network.north_farms_operator)
    revoked = factories.codes(network.provider_admin, quantity=1)[0]
    code_share(code=revoked, to_account=network.south, actor=network.provider_admin)
    code_revoke(code=revoked, actor=network.provider_admin)
    factories.unit(network.rival_customer, name="Rival Van")
    return network


def by_name(roots):
    found = {}

    def walk(node):
        found[node.account.name] = node
        for child in node.children:
            walk(child)

    for root in roots:
        walk(root)
    return found


class TestTree:
    def test_given_the_provider_then_counts_roll_up_the_tree(self, stocked):
        nodes = by_name(account_tree(stocked.provider_admin))
        assert set(nodes) == {"Acme Telematics", "North Sales", "North Farms Dealer", "Harvest Co", "South Sales",
                              "South Rentals"}
        harvest, farms, north, acme = (nodes[n] for n in ("Harvest Co", "North Farms Dealer", "North Sales",
                                                          "Acme Telematics"))
        assert (harvest.total["units"], harvest.total["active_units"]) == (2, 1)
        assert farms.own["running"] == 1 and farms.own["units"] == 0
        assert (farms.total["units"], farms.total["running"]) == (2, 1)
        assert (north.own["available"], north.total["available"], north.total["running"]) == (5, 5, 1)
        assert acme.total["revoked"] == 1 and acme.total["units"] == 2 and acme.total["available"] == 5
        assert nodes["South Sales"].total["revoked"] == 1

    def test_consumption_is_a_codes_first_start_and_moves_consume_nothing(self, network, clock):
        """Queue moves, re-attaching a released code and a scheduled code returned to stock are
        not consumption: only a clock starting is."""
        from codes.services import code_release, codes_attach

        admin = network.provider_admin
        truck, trailer = (factories.unit(network.harvest, actor=admin) for _ in range(2))
        running, queued, behind = factories.codes(admin, quantity=3)
        codes_attach(pairs=[(running, truck), (queued, truck), (behind, truck)], actor=admin)
        code_release(code=queued, actor=admin)  # back to stock; `behind` moves up the queue
        code_release(code=running, actor=admin)  # `behind` starts now: consumed
        code_attach(code=running, unit=trailer, actor=admin)  # its clock already runs: nothing new

        (row,) = [r for r in stock_per_account(admin).rows if r.account == network.provider]

        assert row.consumed == 2  # `running`, then `behind`
        assert row.available == {30: 1}  # `queued`, unstarted again

    def test_given_a_reseller_then_only_its_subtree(self, stocked):
        nodes = by_name(account_tree(stocked.north_admin))
        assert set(nodes) == {"North Sales", "North Farms Dealer", "Harvest Co"}
        assert nodes["North Sales"].total["units"] == 2

    def test_the_tree_costs_a_bounded_number_of_queries(self, stocked):
        with CaptureQueriesContext(connection) as small:
            account_tree(stocked.provider_admin)
        for i in range(5):
            reseller = factories.reseller(stocked.provider, f"Extra {i}")
            factories.unit(factories.customer(reseller), name=f"Van {i}")
        with CaptureQueriesContext(connection) as large:
            account_tree(stocked.provider_admin)
        assert len(large) == len(small) <= 5

    @pytest.mark.parametrize("name", ["accounts:list", "accounts:stock"])
    def test_the_pages_cost_the_same_queries_whatever_the_size_of_the_tree(self, stocked, client, name):
        client.force_login(stocked.provider_admin)
        with CaptureQueriesContext(connection) as small:
            assert client.get(reverse(name)).status_code == 200
        for i in range(6):
            reseller = factories.reseller(stocked.provider, f"More {i}")
            customer = factories.customer(reseller)
            factories.unit(customer, name=f"Bus {i}")
            factories.user(customer, "viewer")
        with CaptureQueriesContext(connection) as large:
            assert client.get(reverse(name)).status_code == 200
        assert len(large) == len(small)

    def test_the_page_shows_the_tree_with_expandable_nodes(self, stocked, client):
        client.force_login(stocked.provider_admin)
        page = client.get(reverse("accounts:list")).content.decode()
        assert page.count("<details") == 6
        assert "Harvest Co" in page and "Rival" not in page
        assert reverse("accounts:move", args=[stocked.harvest.pk]) in page

    @pytest.mark.parametrize("who", ["provider_viewer", "provider_operator"])
    def test_given_a_viewer_or_operator_then_no_write_action_is_shown(self, stocked, client, who):
        client.force_login(getattr(stocked, who))
        page = client.get(reverse("accounts:list")).content.decode()
        assert "Harvest Co" in page
        for name in ("create", "user_create"):
            assert reverse(f"accounts:{name}") not in page
        assert "/edit/" not in page and "/disable/" not in page and "/move/" not in page
        users = client.get(reverse("accounts:users")).content.decode()
        assert reverse("accounts:user_create") not in users and reverse("accounts:users_disable") not in users


class TestManagePages:
    def test_given_an_admin_when_creating_a_customer_then_it_appears_below(self, network, client):
        client.force_login(network.north_admin)
        response = client.post(reverse("accounts:create"), {
            "parent": network.north_farms.pk, "kind": "customer", "name": "Orchard Ltd", "time_zone": "",
        })
        assert response.status_code == 302
        orchard = Account.objects.get(name="Orchard Ltd")
        assert fresh(network.north_farms).strictly_contains(orchard)

    def test_given_a_parent_of_another_branch_in_the_form_then_refused_and_nothing_created(self, network, client):
        client.force_login(network.north_admin)
        response = client.post(reverse("accounts:create"), {
            "parent": network.south.pk, "kind": "customer", "name": "Smuggled", "time_zone": "",
        })
        assert response.status_code == 400
        assert not Account.objects.filter(name="Smuggled").exists()

    def test_given_an_operator_then_manage_pages_are_forbidden(self, network, client):
        client.force_login(network.north_farms_operator)
        assert client.get(reverse("accounts:create")).status_code == 403
        assert client.get(reverse("accounts:edit", args=[network.harvest.pk])).status_code == 403
        assert client.get(reverse("accounts:user_create")).status_code == 403
        response = client.post(reverse("accounts:users_disable"), {"pk": [network.harvest_user.pk], "_confirm": "1"})
        assert response.status_code == 403
        assert fresh(network.harvest_user).is_active

    def test_given_an_admin_when_moving_a_customer_then_it_moves(self, network, client):
        client.force_login(network.north_admin)
        page = client.get(reverse("accounts:move", args=[network.harvest.pk])).content.decode()
        assert "North Sales" in page and "South Sales" not in page
        response = client.post(reverse("accounts:move", args=[network.harvest.pk]), {"new_parent": network.north.pk})
        assert response.status_code == 302
        harvest = fresh(network.harvest)
        assert harvest.path[: -harvest.steplen] == network.north.path

    def test_given_an_admin_when_disabling_an_account_then_confirmed_and_disabled(self, network, client):
        client.force_login(network.north_admin)
        assert client.get(reverse("accounts:disable", args=[network.harvest.pk])).status_code == 200
        assert client.post(reverse("accounts:disable", args=[network.harvest.pk])).status_code == 302
        assert not fresh(network.harvest).is_active
        assert client.post(reverse("accounts:enable", args=[network.harvest.pk])).status_code == 302
        assert fresh(network.harvest).is_active

    def test_given_an_admin_when_creating_a_user_with_a_weak_password_then_the_form_says_why(self, network, client):
        client.force_login(network.north_admin)
        data = {"account": network.harvest.pk, "username": "picker", "role": "viewer", "email": "",
                "first_name": "", "last_name": "", "password1": "12345", "password2": "12345"}
        response = client.post(reverse("accounts:user_create"), data)
        assert response.status_code == 400 and "too short" in response.content.decode()
        data.update(password1="sunflower-harvest-77", password2="sunflower-harvest-77")
        assert client.post(reverse("accounts:user_create"), data).status_code == 302
        assert User.objects.get(username="picker").account_id == network.harvest.pk

    def test_given_an_admin_when_changing_a_role_and_password_then_saved(self, network, client):
        client.force_login(network.north_admin)
        url = reverse("accounts:user_edit", args=[network.harvest_user.pk])
        assert client.post(url, {"role": "viewer", "email": "h@example.com", "first_name": "", "last_name": ""}
                           ).status_code == 302
        assert fresh(network.harvest_user).role == "viewer"
        url = reverse("accounts:user_password", args=[network.harvest_user.pk])
        assert client.post(url, {"password1": "blue-tractor-meadow-42", "password2": "blue-tractor-meadow-42"}
                           ).status_code == 302
        assert fresh(network.harvest_user).check_password("blue-tractor-meadow-42")

    def test_given_an_admin_when_disabling_users_in_bulk_then_they_are_disabled(self, network, client):
        client.force_login(network.north_admin)
        response = client.post(reverse("accounts:users_disable"),
                               {"pk": [network.harvest_user.pk, network.north_farms_operator.pk], "_confirm": "1"})
        assert response.status_code == 302
        assert not fresh(network.harvest_user).is_active and not fresh(network.north_farms_operator).is_active

    def test_the_users_list_shows_only_the_subtree(self, network, client):
        client.force_login(network.north_admin)
        page = client.get(reverse("accounts:users")).content.decode()
        assert "harvest-user" in page and "farms-operator" in page
        assert "south-admin" not in page and "acme-admin" not in page and "rival-admin" not in page


class TestStock:
    def test_given_the_provider_then_it_sees_each_resellers_stock_by_period_and_use(self, stocked):
        stock = stock_per_account(stocked.provider_admin)
        rows = {row.account.name: row for row in stock.rows}
        assert stock.periods == [30, 90]
        assert rows["North Sales"].available == {30: 3, 90: 2}
        assert rows["North Farms Dealer"].available_total == 0 and rows["North Farms Dealer"].consumed == 1
        assert rows["North Farms Dealer"].running_out
        assert rows["South Sales"].available_total == 0  # the revoked code is not stock
        assert "Harvest Co" not in rows and "Rival GPS" not in rows

    def test_consumption_is_a_codes_first_start_and_moves_consume_nothing(self, network, clock):
        """Queue moves, re-attaching a released code and a scheduled code returned to stock are
        not consumption: only a clock starting is."""
        from codes.services import code_release, codes_attach

        admin = network.provider_admin
        truck, trailer = (factories.unit(network.harvest, actor=admin) for _ in range(2))
        running, queued, behind = factories.codes(admin, quantity=3)
        codes_attach(pairs=[(running, truck), (queued, truck), (behind, truck)], actor=admin)
        code_release(code=queued, actor=admin)  # back to stock; `behind` moves up the queue
        code_release(code=running, actor=admin)  # `behind` starts now: consumed
        code_attach(code=running, unit=trailer, actor=admin)  # its clock already runs: nothing new

        (row,) = [r for r in stock_per_account(admin).rows if r.account == network.provider]

        assert row.consumed == 2  # `running`, then `behind`
        assert row.available == {30: 1}  # `queued`, unstarted again

    def test_given_a_reseller_then_only_its_subtree(self, stocked):
        names = {row.account.name for row in stock_per_account(stocked.north_admin).rows}
        assert names == {"North Sales", "North Farms Dealer"}

    def test_the_page_puts_who_runs_out_first_on_top_when_asked(self, stocked, client):
        client.force_login(stocked.provider_admin)
        page = client.get(reverse("accounts:stock"), {"order": "lasts"}).content.decode()
        table = page.split('data-testid="stock-table"')[1]
        assert table.index("North Farms Dealer") < table.index("Acme Telematics")
        table = client.get(reverse("accounts:stock")).content.decode().split('data-testid="stock-table"')[1]
        assert table.index("North Farms Dealer") > table.index("Acme Telematics")

    def test_the_page_shows_it(self, stocked, client):
        client.force_login(stocked.provider_admin)
        page = client.get(reverse("accounts:stock")).content.decode()
        assert re.search(r"North Sales.*?data-testid=\"available\">5<", page, re.S)
        assert "Rival" not in page
