"""`states_q` adds an indexable `status IN (...)` to the clock-derived state conditions, so the
Codes window's first page at a million codes reads its live rows through a partial index instead
of walking the expired ones (docs/adr/0002-indexes-match-the-window-and-the-jobs.md). The
shortcut must never hide a row: while the expiry job has not run, the recorded status lags the
clock, and every code must still be found under the state the clock gives it, for every
combination of states."""

from itertools import combinations

from codes.models import Code, CodeState
from codes.rules import code_state
from codes.selectors import states_q
from codes.services import code_attach, code_release, code_revoke, codes_attach, codes_expire_due
from tests import factories
from tests.domain.support import DAY, T0, code_for, codes_for


def _found(network, states) -> set[int]:
    return set(Code.objects.filter(provider=network.provider).filter(states_q(states)).values_list("pk", flat=True))


def test_given_the_job_behind_the_clock_when_filtering_on_any_states_then_each_code_shows_under_its_state(
    network, clock
):
    # Given 30-day codes in every state, the job run on day 31 and not since.
    available, queued, scheduled, running, released, expired, revoked, late_start, late_expiry = codes_for(
        network, quantity=9
    )
    lapsed = code_for(network, use_by=(T0 + 35 * DAY).date())
    u0, u1, u2 = (factories.unit(network.harvest, actor=network.provider_admin) for _ in range(3))
    codes_attach(pairs=[(expired, u0), (late_expiry, u1)], actor=network.provider_admin)  # days 0-30
    clock.shift(10 * DAY)
    # On u2: running days 10-40, then scheduled 40-70, then queued 70-100.
    codes_attach(pairs=[(running, u2), (scheduled, u2), (queued, u2)], actor=network.provider_admin)
    code_attach(code=released, unit=u0, actor=network.provider_admin)  # days 30-60
    code_attach(code=late_start, unit=u1, actor=network.provider_admin)  # days 30-60
    code_revoke(code=revoked, actor=network.provider_admin)
    clock.move_to(T0 + 31 * DAY)
    codes_expire_due()
    code_release(code=released, actor=network.provider_admin)
    # When the clock reaches day 41 without the job: `running` has ended, `scheduled` has
    # started, `lapsed` passed its use-by date, all still recorded as before.
    clock.move_to(T0 + 41 * DAY)

    codes = {c.pk: c for c in Code.objects.filter(provider=network.provider)}
    derived = {pk: code_state(c) for pk, c in codes.items()}
    assert derived == {
        available.pk: CodeState.AVAILABLE, queued.pk: CodeState.SCHEDULED, scheduled.pk: CodeState.RUNNING,
        running.pk: CodeState.EXPIRED, released.pk: CodeState.RELEASED, expired.pk: CodeState.EXPIRED,
        revoked.pk: CodeState.REVOKED, late_start.pk: CodeState.RUNNING, late_expiry.pk: CodeState.EXPIRED,
        lapsed.pk: CodeState.EXPIRED,
    }
    assert codes[scheduled.pk].status == CodeState.SCHEDULED
    assert codes[running.pk].status == CodeState.RUNNING
    assert codes[lapsed.pk].status == CodeState.AVAILABLE

    # Then every combination of states finds exactly the codes the clock puts in them.
    all_states = list(CodeState)
    for size in range(1, len(all_states) + 1):
        for chosen in combinations(all_states, size):
            assert _found(network, chosen) == {pk for pk, state in derived.items() if state in chosen}, chosen


def test_given_the_working_view_then_it_reads_live_recorded_statuses_only(network, clock):
    # The condition the partial index `code_live_by_expiry` needs is in the query.
    query = str(Code.objects.filter(states_q([CodeState.AVAILABLE, CodeState.SCHEDULED, CodeState.RUNNING,
                                              CodeState.RELEASED])).query)
    assert '"status" IN' in query
    # Asking for expired codes adds no status condition: an expired code may be recorded as anything.
    assert '"status" IN' not in str(Code.objects.filter(states_q([CodeState.EXPIRED])).query)
