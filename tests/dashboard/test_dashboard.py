"""The dashboard: numbers of the user's part of the tree, on a known data set."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes import dashboard
from codes.services import code_attach, code_release, code_revoke, code_share, notice_create
from tests import factories

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)
URL = reverse("dashboard")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def known(network, clock):
    """At NOW, the provider's tree holds:
    period 30: A0 expired (started NOW-40d on U1), A1 running until NOW+5d (U2), A2 available,
               C0 scheduled on U2 behind A1 (NOW+5d .. NOW+35d), D0 released (started NOW-2d, ends NOW+28d);
    period 90: B0 shared to South Sales, running on U3 (a South Rentals unit) since NOW-10d, B1 revoked.
    Units: U2 and U3 active; U1, U4 (its code released) and U5 (never had a code) deactivated.
    Rival GPS has an available code and a unit of its own.
    """
    admin = network.provider_admin
    units = {
        name: factories.unit(owner, actor=admin, name=name)
        for name, owner in [("U1", network.harvest), ("U2", network.harvest), ("U3", network.south_rentals),
                            ("U4", network.north), ("U5", network.harvest)]
    }
    clock.move_to(NOW - 40 * DAY)
    a0, a1, a2 = factories.codes(admin, quantity=3, period_days=30)
    code_attach(code=a0, unit=units["U1"], actor=admin)
    clock.move_to(NOW - 25 * DAY)
    code_attach(code=a1, unit=units["U2"], actor=admin)
    clock.move_to(NOW - 10 * DAY)
    b0, b1 = factories.codes(admin, quantity=2, period_days=90)
    code_share(code=b0, to_account=network.south, actor=admin)
    code_attach(code=b0, unit=units["U3"], actor=network.south_admin)
    code_revoke(code=b1, actor=admin)
    clock.move_to(NOW - 5 * DAY)
    (c0,) = factories.codes(admin, quantity=1, period_days=30)
    code_attach(code=c0, unit=units["U2"], actor=admin)
    clock.move_to(NOW - 2 * DAY)
    (d0,) = factories.codes(admin, quantity=1, period_days=30)
    code_attach(code=d0, unit=units["U4"], actor=admin)
    clock.move_to(NOW - 1 * DAY)
    code_release(code=d0, actor=admin)
    factories.codes(network.rival_admin, quantity=1)
    factories.unit(network.rival_customer, actor=network.rival_admin)
    clock.move_to(NOW)
    return units


def test_given_the_known_data_set_when_a_provider_user_opens_the_dashboard_then_every_number_is_right(
    client, network, known
):
    client.force_login(network.provider_viewer)
    response = client.get(URL)
    assert response.status_code == 200
    codes, units = response.context["codes"], response.context["units"]

    assert codes.by_state == {
        "available": 1, "scheduled": 1, "running": 2, "released": 1, "expired": 1, "revoked": 1,
    }
    assert codes.total == 7
    assert [(row.period_days, row.by_state, row.total) for row in codes.periods] == [
        (30, {"available": 1, "scheduled": 1, "running": 1, "released": 1, "expired": 1, "revoked": 0}, 5),
        (90, {"available": 0, "scheduled": 0, "running": 1, "released": 0, "expired": 0, "revoked": 1}, 2),
    ]
    assert codes.expiring == {7: 1, 30: 2}  # A1 (NOW+5d); A1 and D0 (NOW+28d)
    assert (units.active, units.deactivated) == (2, 3)

    chart = response.context["chart"]
    assert len(chart.bars) == 90
    assert chart.total == 4  # A0, A1, B0 and D0 started in the last 90 days; C0 has not started yet
    started = {bar.day: bar.count for bar in chart.bars if bar.count}
    assert started == {(NOW - d * DAY).date(): 1 for d in (40, 25, 10, 2)}

    page = response.content.decode()
    assert 'data-testid="stat-running">2<' in page
    assert 'data-testid="stat-expiring-7">1<' in page
    assert page.count('class="bar"') == 90


def test_given_a_reseller_when_it_opens_the_dashboard_then_only_its_branch_is_counted(client, network, known):
    client.force_login(network.south_admin)
    response = client.get(URL)
    codes, units = response.context["codes"], response.context["units"]
    assert codes.total == 1 and codes.by_state["running"] == 1
    assert [(row.period_days, row.total) for row in codes.periods] == [(90, 1)]
    assert codes.expiring == {7: 0, 30: 0}
    assert (units.active, units.deactivated) == (1, 0)
    assert response.context["chart"].total == 1


def test_given_the_other_provider_when_it_opens_the_dashboard_then_it_sees_none_of_acmes_numbers(client, network, known):
    client.force_login(network.rival_admin)
    response = client.get(URL)
    codes, units = response.context["codes"], response.context["units"]
    assert codes.by_state["available"] == 1 and codes.total == 1
    assert (units.active, units.deactivated) == (0, 1)
    assert response.context["chart"].total == 0


def test_given_an_anonymous_visitor_when_opening_the_dashboard_then_redirected_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_given_an_account_in_new_york_when_counting_activations_then_days_are_local(network, clock):
    network.provider.time_zone = "America/New_York"
    network.provider.save()
    admin = network.provider_admin
    admin.account.refresh_from_db()
    unit = factories.unit(network.harvest, actor=admin)
    clock.move_to(datetime(2027, 3, 1, 3, 0, tzinfo=UTC))  # 22:00 on 28 February in New York
    (code,) = factories.codes(admin, quantity=1)
    code_attach(code=code, unit=unit, actor=admin)
    series = dict(dashboard.activations_per_day(admin, now=NOW))
    assert series[datetime(2027, 2, 28).date()] == 1
    assert series[datetime(2027, 3, 1).date()] == 0


def queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(URL).status_code == 200
    return len(context.captured_queries)


def test_given_more_data_and_notices_when_opening_the_dashboard_then_the_query_count_stays_the_same(
    client, network, known, clock
):
    client.force_login(network.provider_operator)
    notice_create(actor=network.provider_operator, name="Soon", text="Renew", days_before=7)
    small = queries(client)
    for days in (3, 30, 60):
        notice_create(actor=network.provider_operator, name=f"In {days}", text="Renew", days_before=days)
    more_units = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(5)]
    for code, unit in zip(factories.codes(network.provider_admin, quantity=5, period_days=180), more_units, strict=True):
        code_attach(code=code, unit=unit, actor=network.provider_admin)
    assert queries(client) == small


def test_bar_chart_scales_to_a_round_maximum():
    series = [(NOW.date() + i * DAY, count) for i, count in enumerate([0, 3, 7])]
    chart = dashboard.bar_chart(series)
    assert [value for _, value in chart.ticks] == [0, 5, 10]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == pytest.approx(chart.plot_height * 0.7, abs=0.01)
