"""code_revoke / codes_revoke: the provider voids codes that never started. Final."""

import pytest

from audit.models import Action
from cms.errors import DomainError
from codes.models import CodeState
from codes.rules import code_state
from codes.services import code_attach, code_release, code_revoke, code_share, codes_revoke
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, new_events, refresh, snapshot


def refused(reasons, **kwargs):
    before = snapshot()
    with pytest.raises(DomainError) as error:
        codes_revoke(**kwargs)
    assert ([r.code for r in error.value.refusals] or [error.value.code]) == reasons, error.value
    assert snapshot() == before
    return error.value


def test_given_an_available_code_when_the_provider_admin_revokes_it_then_it_is_revoked_for_good(network, clock):
    code = code_for(network, holder=network.north_farms)
    before = last_event_id()

    assert code_revoke(code=code, actor=network.provider_admin, reason="sold by mistake") == 1

    code = refresh(code)
    assert code_state(code) == CodeState.REVOKED
    assert code.revoked_at == T0
    (event,) = new_events(before)
    assert event.action == Action.REVOKED
    assert event.details == {"reason": "sold by mistake"}
    assert event.account_id == network.north_farms.pk
    clock.shift(400 * DAY)
    assert code_state(refresh(code)) == CodeState.REVOKED  # final, whatever the clock says


def test_a_revoked_code_can_no_longer_be_shared_or_attached(network, clock):
    code = code_for(network)
    code_revoke(code=code, actor=network.provider_admin)
    with pytest.raises(DomainError):
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    with pytest.raises(DomainError):
        code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                    actor=network.provider_admin)


def test_given_a_provider_operator_then_refused(network, clock):
    refused(["permission_denied"], codes=[code_for(network)], actor=network.provider_operator)


def test_given_a_reseller_admin_then_refused(network, clock):
    refused(["permission_denied"], codes=[code_for(network, holder=network.north)], actor=network.north_admin)


def test_given_a_viewer_then_refused(network, clock):
    refused(["permission_denied"], codes=[code_for(network)], actor=network.provider_viewer)


def test_given_another_providers_code_then_not_found(network, clock):
    refused(["not_found"], codes=[code_for(network)], actor=network.rival_admin)


def test_given_a_running_code_then_refused(network, clock):
    code = code_for(network)
    code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                actor=network.provider_admin)
    refused(["invalid_state"], codes=[code], actor=network.provider_admin)


def test_given_a_released_code_then_refused(network, clock):
    code = code_for(network)
    code_attach(code=code, unit=factories.unit(network.harvest, actor=network.provider_admin),
                actor=network.provider_admin)
    code_release(code=code, actor=network.provider_admin)
    refused(["invalid_state"], codes=[code], actor=network.provider_admin)


def test_given_a_revoked_code_then_refused(network, clock):
    code = code_for(network)
    code_revoke(code=code, actor=network.provider_admin)
    refused(["invalid_state"], codes=[code], actor=network.provider_admin)


def test_given_a_lapsed_use_by_date_then_refused(network, clock):
    code = code_for(network, use_by=T0.date())
    clock.shift(2 * DAY)
    refused(["invalid_state"], codes=[code], actor=network.provider_admin)


def test_given_one_refused_code_in_a_bulk_then_nothing_is_revoked(network, clock):
    good, running, good_too = codes_for(network, quantity=3)
    code_attach(code=running, unit=factories.unit(network.harvest, actor=network.provider_admin),
                actor=network.provider_admin)
    error = refused(["invalid_state"], codes=[good, running, good_too], actor=network.provider_admin)
    assert error.code == "bulk_refused"
    assert error.refusals[0].item == running.display_text


def test_bulk_revoke_writes_one_event_per_code(network, clock):
    codes = codes_for(network, quantity=5)
    before = last_event_id()
    assert codes_revoke(codes=codes, actor=network.provider_admin) == 5
    assert new_events(before, action=Action.REVOKED).count() == 5
    assert all(code_state(refresh(c)) == CodeState.REVOKED for c in codes)
