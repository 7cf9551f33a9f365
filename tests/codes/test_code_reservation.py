"""A code e-mailed to a customer is reserved for that address (DOMAIN.md, "Reservation"): no
automatic choice and no staff action takes it, its recipient redeems it by its text, the sender
can cancel the reservation, and it ends with the code's use-by date or period."""

import pytest

from audit.models import Action
from cms.actors import ANONYMOUS
from cms.errors import DomainError, PermissionDenied
from codes.models import CodeState
from codes.pairing import CsvLine, available_periods, pair_units_with_codes, resolve_csv_lines
from codes.rules import code_state, reservation_of
from codes.services import (
    code_attach,
    code_recall,
    code_redeem,
    code_release,
    code_reservation_cancel,
    code_revoke,
    code_share,
    codes_attach,
    codes_send_by_email,
    redeem_preview,
)
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for, last_event_id, new_events, refresh, snapshot

RECIPIENT = "driver@harvest.example"
REFUSAL = f"Reserved for {RECIPIENT} since March 1, 2027, 9 a.m.: cancel the reservation first."


def send(network, code, recipient=RECIPIENT, actor=None):
    codes_send_by_email(codes=[code], actor=actor or network.north_admin, recipient=recipient)
    return refresh(code)


@pytest.fixture
def sent(network, clock):
    """A 30-day code North Sales holds, e-mailed by North's admin to the driver at T0."""
    return send(network, code_for(network, holder=network.north))


@pytest.fixture
def tractor(network):
    return factories.unit(network.harvest, actor=network.provider_admin, name="Tractor", hardware_id="356938035643809")


class TestSending:
    def test_when_a_code_is_sent_then_it_is_reserved_for_the_address_since_then(self, network, sent):
        assert (sent.reserved_for, sent.reserved_at) == (RECIPIENT, T0)
        assert reservation_of(sent).recipient == RECIPIENT
        assert code_state(sent) == CodeState.AVAILABLE, "a reserved code is still available to its recipient"

    def test_given_a_released_code_when_sent_then_it_is_reserved_too(self, network, clock, tractor):
        code = code_for(network, holder=network.north)
        code_attach(code=code, unit=tractor, actor=network.provider_admin)
        code_release(code=code, actor=network.provider_admin)

        assert reservation_of(send(network, code)).recipient == RECIPIENT

    def test_given_a_reserved_code_when_sent_again_to_the_same_address_then_the_reservation_stands_from_the_first(
        self, network, sent, clock
    ):
        clock.shift(DAY)
        before = last_event_id()

        again = send(network, sent, recipient="Driver@HARVEST.example")

        assert (again.reserved_for, again.reserved_at) == (RECIPIENT, T0)
        [entry] = new_events(before)
        assert entry.action == Action.RESERVED and entry.details["resent"] is True

    def test_given_a_reserved_code_when_sent_to_another_address_then_refused_until_the_reservation_is_cancelled(
        self, network, sent
    ):
        before = snapshot()

        with pytest.raises(DomainError) as refused:
            send(network, sent, recipient="someone@else.example")

        assert refused.value.code == "code_reserved" and str(refused.value) == REFUSAL
        assert snapshot() == before

        code_reservation_cancel(code=sent, actor=network.north_admin)
        assert refresh(send(network, sent, recipient="someone@else.example")).reserved_for == "someone@else.example"


class TestNoAutomaticChoiceTakesIt:
    def test_given_a_reserved_and_a_free_code_of_one_period_when_pairing_then_the_free_one_is_chosen(
        self, network, clock, tractor
    ):
        reserved = send(network, code_for(network, holder=network.harvest))  # closest to the unit, so preferred
        free = code_for(network, holder=network.north)

        pairing = pair_units_with_codes(user=network.north_admin, units=[tractor], period_days=30)

        assert [(unit.pk, code.pk) for unit, code in pairing.pairs] == [(tractor.pk, free.pk)]
        assert reserved.pk not in {code.pk for _unit, code in pairing.pairs}

    def test_given_only_reserved_codes_when_pairing_then_the_unit_stays_unpaired_and_the_period_is_not_offered(
        self, network, sent, tractor
    ):
        pairing = pair_units_with_codes(user=network.north_admin, units=[tractor], period_days=30)

        assert pairing.pairs == [] and [u.unit for u in pairing.unpaired] == [tractor]
        assert available_periods(user=network.north_admin) == []

    def test_given_a_reserved_code_named_in_a_csv_then_its_line_says_it_is_reserved(self, network, sent, tractor):
        lines = [CsvLine(1, tractor.hardware_id, sent.display_text)]

        resolved = resolve_csv_lines(user=network.north_admin, lines=lines)

        assert resolved.pairs == [] and [e.reason for e in resolved.errors] == [REFUSAL]


class TestStaffActionsAreRefusedWithTheReason:
    def test_when_attached_by_hand_then_refused_and_nothing_changes(self, network, sent, tractor):
        before = snapshot()

        with pytest.raises(DomainError) as refused:
            code_attach(code=sent, unit=tractor, actor=network.north_admin)

        assert (refused.value.code, str(refused.value)) == ("code_reserved", REFUSAL)
        assert snapshot() == before

    def test_given_a_reserved_code_among_others_when_attached_in_bulk_then_nothing_is_attached(
        self, network, sent, tractor
    ):
        free = code_for(network, holder=network.north)
        before = snapshot()

        with pytest.raises(DomainError) as refused:
            codes_attach(pairs=[(free, tractor), (sent, tractor)], actor=network.north_admin)

        assert [(r.item, r.code) for r in refused.value.refusals] == [(sent.display_text, "code_reserved")]
        assert snapshot() == before

    @pytest.mark.parametrize("action", ["share", "recall", "revoke"])
    def test_when_moved_or_voided_then_refused_and_nothing_changes(self, network, clock, action):
        code = send(network, code_for(network, holder=network.north), actor=network.provider_admin)
        before = snapshot()
        calls = {
            "share": lambda: code_share(code=code, to_account=network.north_farms, actor=network.north_admin),
            "recall": lambda: code_recall(code=code, actor=network.provider_admin),
            "revoke": lambda: code_revoke(code=code, actor=network.provider_admin),
        }

        with pytest.raises(DomainError) as refused:
            calls[action]()

        assert (refused.value.code, str(refused.value)) == ("code_reserved", REFUSAL)
        assert snapshot() == before


class TestTheRecipientRedeemsIt:
    def test_when_redeemed_by_its_text_then_it_runs_on_the_unit_and_the_reservation_is_cleared(
        self, network, sent, tractor
    ):
        assert redeem_preview(code_text_typed=sent.display_text, hardware_id=tractor.hardware_id).unit == tractor
        before = last_event_id()

        code_redeem(code_text=sent.display_text, hardware_id=tractor.hardware_id, actor=ANONYMOUS)

        code = refresh(sent)
        assert code_state(code) == CodeState.RUNNING and code.unit_id == tractor.pk
        assert (code.reserved_for, code.reserved_at) == ("", None)
        redeemed = new_events(before, action=Action.REDEEMED).get()
        assert redeemed.details["reserved_for"] == RECIPIENT

    def test_given_a_signed_in_customer_when_it_redeems_the_code_then_it_runs(self, network, sent, tractor):
        code_redeem(code_text=sent.text, hardware_id=tractor.hardware_id, actor=network.harvest_user)

        assert refresh(sent).unit_id == tractor.pk

    def test_given_a_redeemed_code_when_released_then_it_is_not_reserved_again(self, network, sent, tractor):
        code_redeem(code_text=sent.text, hardware_id=tractor.hardware_id, actor=ANONYMOUS)

        code_release(code=sent, actor=network.north_admin)

        assert reservation_of(refresh(sent)) is None


class TestCancelling:
    def test_when_the_sender_cancels_then_the_code_is_free_and_the_audit_says_who_and_for_whom(
        self, network, sent, tractor, clock
    ):
        clock.shift(DAY)
        before = last_event_id()

        assert code_reservation_cancel(code=sent, actor=network.north_admin) == 1

        code = refresh(sent)
        assert (code.reserved_for, code.reserved_at) == ("", None)
        [entry] = new_events(before)
        assert (entry.action, entry.actor, entry.code_id) == (Action.RESERVATION_CANCELLED, network.north_admin, code.pk)
        assert entry.details == {"recipient": RECIPIENT, "reserved_at": T0.isoformat()}
        code_attach(code=code, unit=tractor, actor=network.north_admin)  # free for the staff again

    def test_given_a_writer_above_the_holder_when_it_cancels_then_it_may(self, network, sent):
        assert code_reservation_cancel(code=sent, actor=network.provider_operator) == 1

    def test_given_a_writer_outside_the_holders_branch_when_it_cancels_then_the_code_is_not_found(self, network, sent):
        before = snapshot()

        with pytest.raises(DomainError) as refused:
            code_reservation_cancel(code=sent, actor=network.south_admin)

        assert refused.value.code == "not_found" and snapshot() == before

    def test_given_a_viewer_when_it_cancels_then_refused(self, network, sent):
        with pytest.raises(PermissionDenied):
            code_reservation_cancel(code=sent, actor=network.provider_viewer)

    def test_given_a_code_not_reserved_when_cancelled_then_refused(self, network, clock):
        code = code_for(network)

        with pytest.raises(DomainError) as refused:
            code_reservation_cancel(code=code, actor=network.provider_admin)

        assert (refused.value.code, str(refused.value)) == ("invalid_state", "This code is not reserved.")


class TestTheReservationEndsWithTheCode:
    def test_when_its_use_by_date_passes_then_it_is_no_longer_reserved_without_any_job(self, network, clock):
        [code] = codes_for(network, holder=network.north, use_by=(T0 + 2 * DAY).date())
        code = send(network, code)
        assert reservation_of(code) is not None

        clock.shift(3 * DAY)

        assert code_state(code) == CodeState.EXPIRED and reservation_of(code) is None
        with pytest.raises(DomainError) as refused:
            code_reservation_cancel(code=code, actor=network.north_admin)
        assert refused.value.code == "invalid_state"

    def test_given_a_reserved_released_code_when_its_period_ends_then_it_is_no_longer_reserved(
        self, network, clock, tractor
    ):
        code = code_for(network, holder=network.north)
        code_attach(code=code, unit=tractor, actor=network.provider_admin)
        code_release(code=code, actor=network.provider_admin)
        code = send(network, code)

        clock.shift(31 * DAY)

        assert code_state(code) == CodeState.EXPIRED and reservation_of(code) is None
