"""code_redeem: an end customer applies a code to its own unit (the public page, or signed in).
Every refusal is recorded as `redeem_refused` and changes nothing else."""

import pytest

from audit.models import Action, Event
from cms.actors import ANONYMOUS
from cms.errors import DomainError
from codes import text as code_text
from codes.models import CodeState
from codes.rules import code_state
from codes.services import code_attach, code_redeem, code_release, code_revoke
from tests import factories
from tests.domain.support import DAY, T0, code_for, last_event_id, new_events, refresh, snapshot


@pytest.fixture
def harvest_unit(network):
    return factories.unit(network.harvest, actor=network.provider_admin, hardware_id="356938035643809")


def as_typed(code) -> str:
    """How a person might type it: lower case, grouped, O for 0 and l for 1."""
    return code.display_text.lower().replace("0", "O").replace("1", "l")


def refused_redeem(reason, *, code_text, hardware_id, actor=ANONYMOUS):
    before = snapshot()
    with pytest.raises(DomainError) as error:
        code_redeem(code_text=code_text, hardware_id=hardware_id, actor=actor, client_address="203.0.113.9")
    assert error.value.code == reason, error.value
    after = snapshot()
    assert after["codes"] == before["codes"] and after["units"] == before["units"]
    new = list(Event.objects.exclude(pk__in=before["events"]))
    assert [e.action for e in new] == [Action.REDEEM_REFUSED], "a refusal writes exactly one redeem_refused"
    assert new[0].details == {"reason": reason}
    assert new[0].client_address == "203.0.113.9"
    return error.value, new[0]


class TestRedeemed:
    def test_given_a_code_held_above_the_customer_when_redeemed_anonymously_then_the_unit_runs(
        self, network, clock, harvest_unit
    ):
        code = code_for(network, holder=network.north_farms, period_days=365)
        before = last_event_id()

        redeemed = code_redeem(code_text=as_typed(code), hardware_id=" 356938035643809 ", client_address="203.0.113.9")

        assert redeemed.pk == code.pk
        code = refresh(code)
        assert code_state(code) == CodeState.RUNNING
        assert (code.unit_id, code.activated_at, code.expires_at) == (harvest_unit.pk, T0, T0 + 365 * DAY)
        assert refresh(harvest_unit).is_active
        redeemed_event, activated = new_events(before)
        assert redeemed_event.action == Action.REDEEMED
        assert redeemed_event.actor is None and redeemed_event.actor_label == "anonymous"
        assert redeemed_event.client_address == "203.0.113.9"
        assert activated.action == Action.UNIT_ACTIVATED

    def test_given_a_signed_in_customer_then_it_redeems_onto_its_own_unit(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.north_farms)
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=network.harvest_user)
        assert code_state(refresh(code)) == CodeState.RUNNING
        assert Event.objects.get(code=code, action=Action.REDEEMED).actor == network.harvest_user

    def test_given_a_covered_unit_then_the_code_is_scheduled_behind_its_cover(self, network, clock, harvest_unit):
        first = code_for(network, holder=network.harvest, period_days=30)
        code_attach(code=first, unit=harvest_unit, actor=network.harvest_user)
        renewal = code_for(network, holder=network.harvest, period_days=30)
        code_redeem(code_text=renewal.text, hardware_id=harvest_unit.hardware_id)
        renewal = refresh(renewal)
        assert code_state(renewal) == CodeState.SCHEDULED
        assert renewal.activated_at == T0 + 30 * DAY


class TestRefused:
    def test_given_a_typo_then_it_reads_mistyped(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest)
        typo = code.text[:-1] + ("0" if code.text[-1] != "0" else "1")
        error, event = refused_redeem("code_mistyped", code_text=typo, hardware_id=harvest_unit.hardware_id)
        assert "mistyped" in error.message
        assert event.code_id is None

    def test_given_an_unknown_well_formed_code_then_not_valid(self, network, clock, harvest_unit):
        refused_redeem("code_not_valid", code_text=code_text.generate(), hardware_id=harvest_unit.hardware_id)

    def test_given_a_code_of_another_provider_then_the_same_answer_as_an_unknown_code(
        self, network, clock, harvest_unit
    ):
        rival_code = factories.codes(network.rival_admin, quantity=1)[0]
        error, _ = refused_redeem("code_not_valid", code_text=rival_code.text,
                                  hardware_id=harvest_unit.hardware_id, actor=network.harvest_user)
        unknown = pytest.raises(DomainError)
        with unknown as other:
            code_redeem(code_text=code_text.generate(), hardware_id=harvest_unit.hardware_id,
                        actor=network.harvest_user)
        assert error.message == other.value.message

    def test_given_a_revoked_code_then_not_valid(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest)
        code_revoke(code=code, actor=network.provider_admin)
        refused_redeem("code_not_valid", code_text=code.text, hardware_id=harvest_unit.hardware_id)

    def test_given_a_use_by_date_passed_then_not_valid(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest, use_by=T0.date())
        clock.shift(2 * DAY)
        refused_redeem("code_not_valid", code_text=code.text, hardware_id=harvest_unit.hardware_id)

    def test_given_a_code_already_in_use_then_refused(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest)
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id)
        _, event = refused_redeem("code_already_used", code_text=code.text, hardware_id=harvest_unit.hardware_id)
        assert (event.code_id, event.unit_id, event.account_id) == (code.pk, harvest_unit.pk, network.harvest.pk)

    def test_given_an_expired_code_then_refused(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest, period_days=30)
        code_redeem(code_text=code.text, hardware_id=harvest_unit.hardware_id)
        code_release(code=code, actor=network.harvest_user)
        clock.shift(31 * DAY)
        refused_redeem("code_expired", code_text=code.text, hardware_id=harvest_unit.hardware_id)

    def test_given_an_unknown_hardware_id_then_the_unit_is_not_eligible(self, network, clock, harvest_unit):
        code = code_for(network, holder=network.harvest)
        _, event = refused_redeem("unit_not_eligible", code_text=code.text, hardware_id="000000000000000")
        assert event.code_id == code.pk

    def test_given_a_unit_outside_the_holders_branch_then_not_eligible(self, network, clock):
        code = code_for(network, holder=network.harvest)
        south_unit = factories.unit(network.south_rentals, actor=network.provider_admin)
        refused_redeem("unit_not_eligible", code_text=code.text, hardware_id=south_unit.hardware_id)

    def test_given_a_signed_in_customer_and_someone_elses_unit_then_not_eligible(self, network, clock):
        code = code_for(network, holder=network.north)
        other_customer = factories.customer(network.north, "Other Farm")
        their_unit = factories.unit(other_customer, actor=network.provider_admin)
        _, event = refused_redeem("unit_not_eligible", code_text=code.text, hardware_id=their_unit.hardware_id,
                                  actor=network.harvest_user)
        assert (event.code_id, event.unit_id, event.account_id) == (code.pk, None, network.north.pk)

    def test_given_a_code_of_another_provider_that_has_a_unit_with_that_hardware_id_then_not_valid_naming_nothing(
        self, network, clock, harvest_unit
    ):
        """The unit found at the code's provider is not the caller's business: the same answer
        as an unknown code, and the entry names neither the code nor that unit."""
        rival_code = factories.codes(network.rival_admin, quantity=1)[0]
        factories.unit(network.rival_customer, actor=network.rival_admin, hardware_id=harvest_unit.hardware_id)
        _, event = refused_redeem("code_not_valid", code_text=rival_code.text,
                                  hardware_id=harvest_unit.hardware_id, actor=network.harvest_user)
        assert (event.code_id, event.unit_id) == (None, None)

    def test_given_a_viewer_then_refused(self, network, clock, harvest_unit):
        viewer = factories.user(network.harvest, role="viewer")
        code = code_for(network, holder=network.harvest)
        refused_redeem("permission_denied", code_text=code.text, hardware_id=harvest_unit.hardware_id, actor=viewer)
