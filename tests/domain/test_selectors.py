"""The read side of the domain core: what each user sees, and states derived from the clock."""

from codes.cover import unit_cover, with_cover
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.selectors import codes_visible_to, state_q, states_q, with_state
from codes.services import code_attach, code_release, code_revoke, codes_attach
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for
from units.models import Unit
from units.selectors import units_visible_to


def test_each_user_sees_the_units_of_its_own_account_and_below_and_nothing_else(network):
    harvest_unit = factories.unit(network.harvest, actor=network.provider_admin)
    south_unit = factories.unit(network.south_rentals, actor=network.provider_admin)
    rival_unit = factories.unit(network.rival_customer, actor=network.rival_admin)

    def seen(user):
        return set(units_visible_to(user).values_list("pk", flat=True))

    assert seen(network.provider_admin) == {harvest_unit.pk, south_unit.pk}
    assert seen(network.north_admin) == seen(network.harvest_user) == {harvest_unit.pk}
    assert seen(network.south_admin) == {south_unit.pk}
    assert seen(network.rival_admin) == {rival_unit.pk}


def test_a_user_of_a_disabled_account_sees_nothing(network):
    code_for(network, holder=network.north)
    network.north.is_active = False
    network.north.save()
    assert not codes_visible_to(network.north_admin).exists()
    assert not units_visible_to(network.north_admin).exists()


def test_codes_are_visible_to_their_holder_and_above_only(network):
    code = code_for(network, holder=network.harvest)
    for user in (network.provider_admin, network.north_admin, network.north_farms_operator, network.harvest_user):
        assert codes_visible_to(user).filter(pk=code.pk).exists()
    for user in (network.south_admin, network.rival_admin):
        assert not codes_visible_to(user).filter(pk=code.pk).exists()


def test_every_state_read_in_sql_matches_the_state_read_in_python(network, clock):
    available, scheduled, running, released, expired, revoked, lapsed = codes_for(network, quantity=7)
    lapsed_code = code_for(network, use_by=T0.date())
    unit, spare = (factories.unit(network.harvest, actor=network.provider_admin) for _ in range(2))
    codes_attach(pairs=[(expired, spare)], actor=network.provider_admin)
    clock.shift(10 * DAY)
    codes_attach(pairs=[(running, unit), (scheduled, unit)], actor=network.provider_admin)
    code_attach(code=released, unit=spare, actor=network.provider_admin)  # queued behind `expired`
    code_revoke(code=revoked, actor=network.provider_admin)
    clock.shift(21 * DAY)  # `expired` (30 days from T0) is over; `released` now runs on `spare`
    code_release(code=released, actor=network.provider_admin)

    expected = {
        available.pk: CodeState.AVAILABLE, scheduled.pk: CodeState.SCHEDULED, running.pk: CodeState.RUNNING,
        released.pk: CodeState.RELEASED, expired.pk: CodeState.EXPIRED, revoked.pk: CodeState.REVOKED,
        lapsed.pk: CodeState.AVAILABLE, lapsed_code.pk: CodeState.EXPIRED,
    }
    codes = Code.objects.filter(pk__in=expected)
    assert {c.pk: code_state(c) for c in codes} == expected
    assert dict(with_state(codes).values_list("pk", "state")) == expected
    for state in CodeState:
        assert set(codes.filter(state_q(state)).values_list("pk", flat=True)) == {
            pk for pk, s in expected.items() if s == state
        }
    on_units = set(codes.filter(states_q([CodeState.RUNNING, CodeState.SCHEDULED])).values_list("pk", flat=True))
    assert on_units == {running.pk, scheduled.pk}


def test_a_units_cover_lists_the_running_code_then_the_queue(network, clock):
    codes = codes_for(network, quantity=3, period_days=30)
    unit = factories.unit(network.harvest, actor=network.provider_admin)
    codes_attach(pairs=[(c, unit) for c in codes], actor=network.provider_admin)
    clock.shift(5 * DAY)

    cover = unit_cover(unit)

    assert cover.is_active and cover.running.pk == codes[0].pk
    assert [c.pk for c in cover.scheduled] == [codes[1].pk, codes[2].pk]
    assert cover.covered_until == T0 + 90 * DAY
    assert cover.days_left == 85
    annotated = with_cover(Unit.objects.filter(pk=unit.pk)).get()
    assert annotated.active_now is True and annotated.covered_until == T0 + 90 * DAY
