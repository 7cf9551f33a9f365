"""A unit's page: its cover over time (past, running, scheduled codes) and its history."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from codes.cover import unit_timeline
from codes.services import code_attach, code_release
from tests import factories


def given_a_unit_with_a_past(network):
    """Code A ran out 70 days ago; code B was released 20 days ago; C runs now; D waits behind it."""
    admin, now = network.provider_admin, timezone.now()
    unit = factories.unit(network.harvest, admin, name="Combine 7", hardware_id="350000000000070")
    a, c, d = factories.codes(admin, quantity=3, period_days=30)
    (b,) = factories.codes(admin, quantity=1, period_days=90)
    code_attach(code=a, unit=unit, actor=admin, now=now - timedelta(days=100))
    code_attach(code=b, unit=unit, actor=admin, now=now - timedelta(days=50))
    code_release(code=b, actor=admin, now=now - timedelta(days=20))
    code_attach(code=c, unit=unit, actor=admin, now=now)
    code_attach(code=d, unit=unit, actor=admin, now=now)
    return unit, (a, b, c, d), now


def test_given_a_unit_with_history_then_the_timeline_has_its_past_running_and_scheduled_codes(network):
    unit, (a, b, c, d), now = given_a_unit_with_a_past(network)
    timeline = unit_timeline(unit, now)
    kinds = [(s.code_id, s.kind) for s in timeline.segments]
    assert kinds == [(a.pk, "past"), (b.pk, "past"), (c.pk, "running"), (d.pk, "scheduled")]
    past_a, past_b, running, scheduled = timeline.segments
    assert past_a.end - past_a.start == timedelta(days=30)
    assert past_b.released and past_b.end == now - timedelta(days=20)
    assert past_b.start == now - timedelta(days=50)
    assert scheduled.start == running.end
    # Laid out left to right on one axis, with "now" at the start of the running code.
    assert 0 <= past_a.left < past_b.left < running.left < scheduled.left < 100
    assert abs(timeline.now_left - running.left) < 0.01


def test_given_a_code_released_while_scheduled_then_it_never_covered_the_unit(network):
    admin, now = network.provider_admin, timezone.now()
    unit = factories.unit(network.harvest, admin, hardware_id="350000000000071")
    first, queued = factories.codes(admin, quantity=2, period_days=30)
    code_attach(code=first, unit=unit, actor=admin, now=now - timedelta(days=5))
    code_attach(code=queued, unit=unit, actor=admin, now=now - timedelta(days=5))
    code_release(code=queued, actor=admin, now=now - timedelta(days=4))
    assert [s.code_id for s in unit_timeline(unit, now).segments] == [first.pk]


def test_given_a_permitted_user_when_opening_the_unit_then_timeline_and_history_show(client, network):
    unit, (a, b, c, d), now = given_a_unit_with_a_past(network)
    client.force_login(network.north_admin)
    response = client.get(reverse("units:detail", args=[unit.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="timeline"' in html
    assert html.count('class="timeline-seg seg-past"') == 2
    assert 'class="timeline-seg seg-running"' in html and 'class="timeline-seg seg-scheduled"' in html
    assert 'data-state="active"' in html
    actions = [e.action for e in response.context["history"]]
    assert {"attached", "scheduled", "released", "unit_activated", "unit_deactivated"} <= set(actions)
    assert response.context["history"][0].occurred_at >= response.context["history"][-1].occurred_at


def test_given_a_unit_without_codes_when_opened_then_it_says_so(client, network, fleet):
    client.force_login(network.provider_viewer)
    response = client.get(reverse("units:detail", args=[fleet.harvest_trailer.pk]))
    assert response.status_code == 200
    assert "No code has covered this unit yet." in response.content.decode()
    assert 'data-state="deactivated"' in response.content.decode()


def test_given_a_unit_outside_the_users_branch_when_opened_then_404(client, network, fleet):
    client.force_login(network.south_admin)
    assert client.get(reverse("units:detail", args=[fleet.harvest_truck.pk])).status_code == 404
    client.force_login(network.rival_admin)
    assert client.get(reverse("units:detail", args=[fleet.harvest_truck.pk])).status_code == 404


def test_given_an_anonymous_visitor_when_opening_a_unit_then_sent_to_sign_in(client, fleet):
    response = client.get(reverse("units:detail", args=[fleet.harvest_truck.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_given_a_writer_on_the_unit_page_then_it_can_start_applying_a_code_to_this_unit(client, network, fleet):
    client.force_login(network.provider_operator)
    html = client.get(reverse("units:detail", args=[fleet.harvest_truck.pk])).content.decode()
    assert 'data-testid="apply-code"' in html and "Renew" in html
    client.force_login(network.provider_viewer)
    html = client.get(reverse("units:detail", args=[fleet.harvest_truck.pk])).content.decode()
    assert 'data-testid="apply-code"' not in html


def test_given_a_unit_running_on_a_code_held_above_the_user_then_the_code_shows_masked(client, network, fleet):
    # The Harvest truck runs on codes the provider kept: North Sales sees the unit, not the codes.
    client.force_login(network.north_admin)
    response = client.get(reverse("units:detail", args=[fleet.harvest_truck.pk]))
    html = response.content.decode()
    running = response.context["timeline"].current[0]
    assert not running.visible
    assert running.code_text not in html and running.masked_text in html
    assert reverse("codes:detail", args=[running.code_id]) not in html
    listed = client.get(reverse("units:list"), {"q": fleet.harvest_truck.hardware_id})
    assert "held above" in listed.content.decode() and running.code_text not in listed.content.decode()
    # The provider sees them in full.
    client.force_login(network.provider_viewer)
    html = client.get(reverse("units:detail", args=[fleet.harvest_truck.pk])).content.decode()
    assert running.code_text in html and reverse("codes:detail", args=[running.code_id]) in html
