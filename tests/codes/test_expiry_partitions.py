"""The expiry job in partitions: `codes_expire_due(partition=(k, n))` takes only the due codes of
partition k of n (a code on a unit goes with its unit, a code on no unit by its own id), so n runs
side by side share the work without sharing a unit. The minute's task runs them as a Celery group
on PostgreSQL; their concurrent behaviour is specified in tests/postgres/test_concurrency.py."""

from collections import Counter

import pytest
from django.db import transaction

from audit.models import Action, Event
from codes.models import Code, CodeState
from codes.services import (
    code_attach,
    code_release,
    codes_attach,
    codes_expire_due,
)
from tests import factories
from tests.domain.support import DAY, T0, codes_for, last_event_id, new_events, refresh
from units.models import Unit


def unit_of(network):
    return factories.unit(network.harvest, actor=network.provider_admin)


def partition_of(code: Code, n: int) -> int:
    return (code.unit_id if code.unit_id is not None else code.pk) % n


def a_mixed_day(network, clock):
    """At T0 + 40 days: units whose code ran out (some with a code queued behind it, one with a
    chain of three), released codes that ran out, unused codes past their use-by date, and codes
    not due at all."""
    units = [unit_of(network) for _ in range(7)]
    for unit in units[:4]:
        codes_attach(pairs=[(c, unit) for c in codes_for(network, quantity=1, period_days=30)],
                     actor=network.provider_admin)
    for unit in units[4:6]:
        codes_attach(pairs=[(c, unit) for c in codes_for(network, quantity=2, period_days=30)],
                     actor=network.provider_admin)
    codes_attach(pairs=[(c, units[6]) for c in codes_for(network, quantity=3, period_days=10)],
                 actor=network.provider_admin)
    spare = unit_of(network)
    for code in codes_for(network, quantity=3, period_days=30):
        code_attach(code=code, unit=spare, actor=network.provider_admin)
        code_release(code=code, actor=network.provider_admin)
    codes_for(network, quantity=4, use_by=T0.date())  # lapse unused
    codes_for(network, quantity=2, period_days=30)  # never used: not due
    clock.move_to(T0 + 40 * DAY)


def outcome(since: int) -> dict:
    """What a run left behind: each code's recorded status, each unit's flag, and the audit
    entries written since `since`, as (action, code, unit) with their counts."""
    return {
        "codes": dict(Code.objects.values_list("pk", "status")),
        "units": dict(Unit.objects.values_list("pk", "is_active")),
        "events": Counter(new_events(since).values_list("action", "code_id", "unit_id")),
    }


def serial_outcome(since: int) -> tuple[dict, tuple]:
    """The serial run's outcome, computed inside a savepoint that is then rolled back."""
    with transaction.atomic():
        run = codes_expire_due()
        result = outcome(since)
        transaction.set_rollback(True)
    return result, (run.expired, run.started, run.units_changed)


@pytest.mark.parametrize("n", [2, 3])
def test_the_partitions_run_one_after_another_record_exactly_what_one_serial_run_records(network, clock, n):
    a_mixed_day(network, clock)
    before = last_event_id()
    serial, serial_totals = serial_outcome(before)
    assert serial_totals[0] > 10 and serial_totals[1] > 0 and serial_totals[2] > 0  # a scene worth splitting

    totals = Counter()
    for k in range(n):
        since = last_event_id()
        run = codes_expire_due(partition=(k, n), chunk_size=2)
        totals.update(expired=run.expired, started=run.started, units_changed=run.units_changed)
        recorded = list(new_events(since))
        # Partition k records only its own codes and units, and each partition has some.
        assert recorded, f"partition {k} of {n} recorded nothing"
        for event in recorded:
            key = event.unit_id % n if event.code_id is None else partition_of(refresh(event.code), n)
            assert key == k, f"partition {k} of {n} recorded {event.action} for another partition"

    assert outcome(before) == serial
    assert set(outcome(before)["events"].values()) == {1}  # every change recorded exactly once
    assert (totals["expired"], totals["started"], totals["units_changed"]) == serial_totals
    assert all(codes_expire_due(partition=(k, n)).expired == 0 for k in range(n))


def test_a_units_whole_chain_is_handled_by_the_one_partition_of_its_unit(network, clock):
    # Three codes with consecutive ids (both residues mod 2) on one unit: the first two ran out,
    # the third has started. They go with the unit, whatever their own ids.
    unit = unit_of(network)
    chain = codes_for(network, quantity=3, period_days=10)
    codes_attach(pairs=[(c, unit) for c in chain], actor=network.provider_admin)
    assert {c.pk % 2 for c in chain} == {0, 1}
    clock.move_to(T0 + 25 * DAY)
    own, other = unit.pk % 2, 1 - unit.pk % 2

    assert codes_expire_due(partition=(other, 2), chunk_size=1).expired == 0
    run = codes_expire_due(partition=(own, 2), chunk_size=1)

    assert (run.expired, run.started) == (2, 2)
    assert [refresh(c).status for c in chain] == [CodeState.EXPIRED, CodeState.EXPIRED, CodeState.RUNNING]
    assert refresh(unit).is_active


def test_a_code_on_no_unit_goes_by_its_own_id(network, clock):
    lapsed = codes_for(network, quantity=2, use_by=T0.date())
    clock.move_to(T0 + 2 * DAY)
    by_partition = {c.pk % 2: c for c in lapsed}

    run = codes_expire_due(partition=(0, 2))

    assert run.expired == 1
    assert refresh(by_partition[0]).status == CodeState.EXPIRED
    assert refresh(by_partition[1]).status == CodeState.AVAILABLE
    assert not Event.objects.filter(code=by_partition[1], action=Action.EXPIRED).exists()


@pytest.mark.parametrize("partition", [(2, 2), (-1, 2), (0, 0)])
def test_a_partition_outside_zero_to_n_is_refused(db, partition):
    with pytest.raises(ValueError, match="partition"):
        codes_expire_due(partition=partition)
