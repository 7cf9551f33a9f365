"""Property-based specification of DOMAIN.md's seven invariants.

Hypothesis drives random sequences of service calls (share, recall, revoke, attach, release,
redeem, send by e-mail and cancel the reservation, the expiry and archive jobs) by random actors,
and moves the clock. A small reference
model decides, before each call, whether DOMAIN.md allows it; the service must agree both ways
(allowed -> it succeeds, forbidden -> a DomainError that changes nothing). After every step all
invariants are checked against the database. Invariant 6 (concurrency) needs real parallel
transactions and lives in tests/postgres/test_concurrency.py.

Each example runs in its own savepoint (rolled back at teardown) on top of the network built
once per class by `hypothesis.extra.django.TestCase` (TOOLING.md: a function-scoped pytest `db`
fixture trips Hypothesis' health checks).
"""

import sys
from collections import Counter
from datetime import timedelta

import time_machine
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from audit.models import Action, Event
from cms.actors import ANONYMOUS
from cms.errors import DomainError
from codes.cover import unit_cover, unit_is_active, units_a_release_deactivates, with_cover
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.selectors import with_state
from codes.services import (
    code_redeem,
    codes_archive_expired,
    codes_attach,
    codes_expire_due,
    codes_recall,
    codes_release,
    codes_reservation_cancel,
    codes_revoke,
    codes_send_by_email,
    codes_share,
)
from tests import factories
from tests.conftest import examples
from tests.domain.support import T0, Net, build_network
from units.models import Unit

ACTORS = [
    "provider_admin", "provider_operator", "provider_viewer", "north_admin", "farms_operator", "harvest_user",
    "south_admin", "rival_admin",
]
ACCOUNTS = ["provider", "north", "north_farms", "harvest", "south", "south_rentals", "rival_customer"]
CODE_COUNT = 8
UNIT_OWNERS = ["harvest", "harvest", "north_farms", "south_rentals"]
ON_UNIT = (CodeState.RUNNING, CodeState.SCHEDULED)
EVENT_FIELDS = ("pk", "action", "code_id", "unit_id", "occurred_at", "activated_at", "expires_at", "account_id")
TRACKED = (
    "holder_id", "unit_id", "activated_at", "expires_at", "revoked_at", "archived_at", "status", "reserved_for",
    "reserved_at",
)
RECIPIENTS = ["driver@harvest.example", "DRIVER@harvest.example", "fleet@south.example"]


STATS: Counter = Counter()  # how often each rule succeeded or was refused (printed with -s)


class CodeLifecycle(RuleBasedStateMachine):
    net: Net  # set by the test before running

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._traveller = time_machine.travel(T0, tick=False)
        self.clock = self._traveller.start()
        self.now = T0
        net = self.net
        batch_short = factories.batch(net.provider_admin, quantity=CODE_COUNT // 2, period_days=2,
                                      use_by=(T0 + timedelta(days=3)).date())
        batch_long = factories.batch(net.provider_admin, quantity=CODE_COUNT // 2, period_days=5)
        self.code_ids = [c.pk for c in batch_short.codes.order_by("pk")] + [c.pk for c in batch_long.codes.order_by("pk")]
        self.units = [
            factories.unit(getattr(net, owner), actor=net.provider_admin, hardware_id=f"35000000000{i:04d}")
            for i, owner in enumerate(UNIT_OWNERS)
        ]
        self.unit_ids = [u.pk for u in self.units]
        self.started: dict[int, tuple] = {}  # code id -> (activated_at, expires_at) once it has started
        self.job_is_current = False
        self.last_codes = self._codes_now()
        self.last_units = self._units_now()
        self.remember_events()

    def teardown(self):
        self._traveller.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- reading the world -------------------------------------------------------------
    def _codes_now(self) -> dict[int, dict]:
        return {row["id"]: row for row in Code.objects.filter(pk__in=self.code_ids).values("id", *TRACKED)}

    def _units_now(self) -> dict[int, bool]:
        return dict(Unit.objects.filter(pk__in=self.unit_ids).values_list("pk", "is_active"))

    def code(self, index) -> Code:
        return Code.objects.select_related("holder").get(pk=self.code_ids[index])

    def unit(self, index) -> Unit:
        return Unit.objects.select_related("owner").get(pk=self.unit_ids[index])

    def world(self):
        return self._codes_now(), self._units_now(), Event.objects.count()

    @staticmethod
    def reserved(code) -> bool:
        """DOMAIN.md: a code e-mailed to someone is kept for them while it can still be redeemed."""
        return code.reserved_at is not None and code_state(code) in (CodeState.AVAILABLE, CodeState.RELEASED)

    # --- doing things ------------------------------------------------------------------
    def attempt(self, allowed: bool, call, *, refusal_events: int = 0):
        """Run a service call; DOMAIN.md (our model) says whether it is allowed. A refusal must
        change nothing and write only `refusal_events` audit entries (redeem_refused)."""
        before_codes, before_units, before_events = self.world()
        rule_name = sys._getframe(1).f_code.co_name  # for the statistics
        try:
            call()
        except DomainError as error:
            STATS[f"{rule_name} refused"] += 1
            assert not allowed, f"refused although allowed: {error.code} {error.message} {error.refusals}"
            after_codes, after_units, after_events = self.world()
            assert after_codes == before_codes and after_units == before_units, "a refusal changed something"
            assert after_events == before_events + refusal_events
            if refusal_events:
                assert Event.objects.order_by("-pk").first().action == Action.REDEEM_REFUSED
            return False
        assert allowed, "the service allowed what DOMAIN.md forbids"
        STATS[f"{rule_name} ok"] += 1
        self.job_is_current = False
        return True

    @rule(hours=st.sampled_from([1, 6, 12, 23, 24, 25, 49]))
    def advance_clock(self, hours):
        self.now += timedelta(hours=hours)
        self.clock.move_to(self.now)
        self.job_is_current = False

    @rule(i=st.integers(0, CODE_COUNT - 1), to_name=st.sampled_from(ACCOUNTS), who=st.sampled_from(ACTORS))
    def share(self, i, to_name, who):
        code, actor, to = self.code(i), getattr(self.net, who), getattr(self.net, to_name)
        allowed = (
            actor.can_write
            and actor.account.contains(code.holder)
            and actor.account.contains(to)
            and code_state(code) in (CodeState.AVAILABLE, CodeState.RELEASED)
            and code.holder.strictly_contains(to)
            and not self.reserved(code)
        )
        if self.attempt(allowed, lambda: codes_share(codes=[code], to_account=to, actor=actor)):
            assert Code.objects.get(pk=code.pk).holder_id == to.pk

    @rule(i=st.integers(0, CODE_COUNT - 1), who=st.sampled_from(ACTORS))
    def recall(self, i, who):
        code, actor = self.code(i), getattr(self.net, who)
        allowed = (
            actor.can_write
            and actor.account.strictly_contains(code.holder)
            and code_state(code) in (CodeState.AVAILABLE, CodeState.RELEASED)
            and not self.reserved(code)
        )
        if self.attempt(allowed, lambda: codes_recall(codes=[code], actor=actor)):
            assert Code.objects.get(pk=code.pk).holder_id == actor.account_id

    @rule(i=st.integers(0, CODE_COUNT - 1), who=st.sampled_from(ACTORS))
    def revoke(self, i, who):
        code, actor = self.code(i), getattr(self.net, who)
        allowed = (
            actor.is_account_admin
            and actor.account.is_provider
            and actor.account.contains(code.holder)
            and code_state(code) == CodeState.AVAILABLE
            and not self.reserved(code)
        )
        self.attempt(allowed, lambda: codes_revoke(codes=[code], actor=actor))

    def may_take(self, code, unit, reserved_running=False, by_text=False) -> bool:
        """`by_text`: a redemption, which its recipient makes though the code is reserved."""
        if self.reserved(code) and not by_text:
            return False
        state = code_state(code)
        if state == CodeState.AVAILABLE:
            return code.holder.contains(unit.owner)
        if state == CodeState.RELEASED:
            return code.holder.contains(unit.owner) and not (unit_is_active(unit) or reserved_running)
        return False

    @rule(i=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1), who=st.sampled_from(ACTORS))
    def attach(self, i, u, who):
        code, unit, actor = self.code(i), self.unit(u), getattr(self.net, who)
        allowed = (
            actor.can_write
            and actor.account.contains(code.holder)
            and actor.account.contains(unit.owner)
            and self.may_take(code, unit)
        )
        if self.attempt(allowed, lambda: codes_attach(pairs=[(code, unit)], actor=actor)):
            after = Code.objects.get(pk=code.pk)
            assert code_state(after) in ON_UNIT and after.unit_id == unit.pk, "not on the unit asked for"

    @rule(i=st.integers(0, CODE_COUNT - 1), j=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1))
    def attach_two_in_bulk(self, i, j, u):
        """Two codes for one unit in one call: all or nothing, the second queues behind the first."""
        first, second, unit, actor = self.code(i), self.code(j), self.unit(u), self.net.provider_admin
        first_ok = self.may_take(first, unit)
        allowed = (
            i != j
            and first_ok
            and self.may_take(second, unit, reserved_running=True)
            # a released code keeps its clock: it can't queue behind the first one
        )
        if self.attempt(allowed, lambda: codes_attach(pairs=[(first, unit), (second, unit)], actor=actor)):
            assert {c.unit_id for c in Code.objects.filter(pk__in=[first.pk, second.pk])} == {unit.pk}

    def pick(self, i, states, below_provider=False) -> int | None:
        """The i-th (modulo) of the codes now in one of `states`, so that rules meant to succeed
        usually find something to work on."""
        fitting = [
            n for n in range(CODE_COUNT)
            if code_state(code := self.code(n)) in states and (not below_provider or code.holder.depth > 1)
        ]
        return fitting[i % len(fitting)] if fitting else None

    @rule(i=st.integers(0, CODE_COUNT - 1), to_name=st.sampled_from(["north", "north_farms", "harvest", "south"]))
    def share_a_code_down(self, i, to_name):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))
        if n is not None:
            self.share(n, to_name, "provider_admin")

    @rule(i=st.integers(0, CODE_COUNT - 1))
    def recall_a_shared_code(self, i):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED), below_provider=True)
        if n is None and (n := self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))) is not None:
            self.share(n, "north_farms", "provider_admin")  # something to recall
        if n is not None:
            self.recall(n, "provider_admin")

    @rule(i=st.integers(0, CODE_COUNT - 1))
    def revoke_an_available_code(self, i):
        n = self.pick(i, (CodeState.AVAILABLE,))
        if n is not None:
            self.revoke(n, "provider_admin")

    @rule(i=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1))
    def attach_a_usable_code(self, i, u):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))
        if n is not None:
            self.attach(n, u, "provider_operator")

    @rule(i=st.integers(0, CODE_COUNT - 1), j=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1))
    def attach_two_available_codes(self, i, j, u):
        n, m = self.pick(i, (CodeState.AVAILABLE,)), self.pick(j, (CodeState.AVAILABLE,))
        if n is not None and m is not None and n != m:
            self.attach_two_in_bulk(n, m, u)

    @rule(i=st.integers(0, CODE_COUNT - 1))
    def release_a_code_on_a_unit(self, i):
        n = self.pick(i, ON_UNIT)
        if n is not None:
            self.release(n, "provider_operator")

    @rule(i=st.integers(0, CODE_COUNT - 1), who=st.sampled_from(ACTORS))
    def release(self, i, who):
        code, actor = self.code(i), getattr(self.net, who)
        state = code_state(code)
        # A queued code past its use-by date stays: releasing it would void it.
        allowed = (
            actor.can_write and actor.account.contains(code.holder) and state in ON_UNIT
            and not (state == CodeState.SCHEDULED and code.usable_until is not None and code.usable_until <= self.now)
        )
        previewed = units_a_release_deactivates(Code.objects.filter(pk=code.pk))
        done = []
        since = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if self.attempt(allowed, lambda: done.append(codes_release(codes=[code], actor=actor))):
            # The confirmation names the units the release then deactivates, and the log says so.
            deactivated = Event.objects.filter(pk__gt=since, action=Action.UNIT_DEACTIVATED).values_list("unit_id", flat=True)
            assert [u.pk for u in previewed] == [u.pk for u in done[0].deactivated] == list(deactivated)
            after = Code.objects.get(pk=code.pk)
            if state == CodeState.RUNNING:  # a started code is released and keeps its clock
                assert code_state(after) == CodeState.RELEASED
            else:  # a scheduled one goes back unstarted, and usable
                assert code_state(after) == CodeState.AVAILABLE and after.activated_at is None

    @rule(i=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1))
    def redeem_anonymously(self, i, u):
        code, unit = self.code(i), self.unit(u)
        allowed = self.may_take(code, unit, by_text=True)
        if self.attempt(
            allowed,
            lambda: code_redeem(code_text=code.display_text, hardware_id=unit.hardware_id, actor=ANONYMOUS),
            refusal_events=1,
        ):
            assert Code.objects.get(pk=code.pk).reserved_at is None, "a redemption ends the reservation"

    @rule(i=st.integers(0, CODE_COUNT - 1), u=st.integers(0, len(UNIT_OWNERS) - 1))
    def redeem_a_usable_code(self, i, u):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))
        if n is not None:
            self.redeem_anonymously(n, u)

    @rule(i=st.integers(0, CODE_COUNT - 1), who=st.sampled_from(ACTORS), to=st.sampled_from(RECIPIENTS))
    def send_by_email(self, i, who, to):
        code, actor = self.code(i), getattr(self.net, who)
        kept_for = code.reserved_for if self.reserved(code) else None
        allowed = (
            actor.can_write
            and actor.account.contains(code.holder)
            and code_state(code) in (CodeState.AVAILABLE, CodeState.RELEASED)
            and (kept_for is None or kept_for.casefold() == to.casefold())  # another address: cancel first
        )
        if self.attempt(allowed, lambda: codes_send_by_email(codes=[code], actor=actor, recipient=to)):
            after = Code.objects.get(pk=code.pk)
            assert self.reserved(after) and after.reserved_for == (kept_for or to)

    @rule(i=st.integers(0, CODE_COUNT - 1), who=st.sampled_from(ACTORS))
    def cancel_reservation(self, i, who):
        code, actor = self.code(i), getattr(self.net, who)
        allowed = actor.can_write and actor.account.contains(code.holder) and self.reserved(code)
        if self.attempt(allowed, lambda: codes_reservation_cancel(codes=[code], actor=actor)):
            assert not self.reserved(Code.objects.get(pk=code.pk))

    @rule(i=st.integers(0, CODE_COUNT - 1), to=st.sampled_from(RECIPIENTS))
    def send_a_usable_code(self, i, to):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))
        if n is not None:
            self.send_by_email(n, "provider_operator", to)

    @rule(i=st.integers(0, CODE_COUNT - 1), to=st.sampled_from(RECIPIENTS))
    def send_a_code_then_think_better_of_it(self, i, to):
        n = self.pick(i, (CodeState.AVAILABLE, CodeState.RELEASED))
        if n is not None:
            self.send_by_email(n, "provider_operator", to)
            self.cancel_reservation(n, "provider_admin")

    @rule(i=st.integers(0, CODE_COUNT - 1))
    def cancel_a_reservation(self, i):
        fitting = [n for n in range(CODE_COUNT) if self.reserved(self.code(n))]
        if fitting:
            self.cancel_reservation(fitting[i % len(fitting)], "provider_operator")

    @rule()
    def expiry_job(self):
        codes_expire_due(chunk_size=3)
        self.job_is_current = True

    @rule()
    def archive_job(self):
        codes_archive_expired(chunk_size=3)
        self.job_is_current = True
        for code in Code.objects.filter(pk__in=self.code_ids, status=CodeState.EXPIRED):
            assert code.unit_id is None and code.archived_at is not None

    # --- the invariants, after every step ----------------------------------------------
    @invariant()
    def every_invariant_holds(self):
        """One pass over the data (a dozen queries), then each invariant in turn."""
        codes = list(Code.objects.filter(pk__in=self.code_ids).select_related("holder", "unit__owner"))
        states = {code.pk: code_state(code) for code in codes}
        units = list(with_cover(Unit.objects.filter(pk__in=self.unit_ids).select_related("owner")))
        new_events = list(Event.objects.filter(pk__gt=self.last_event_pk).select_related("from_account", "to_account"))
        self.state_in_python_and_in_sql_agree(states)
        self.invariant_1_one_unit_at_most_and_none_when_expired_or_revoked(codes, states, units)
        self.invariant_2_a_unit_is_active_exactly_when_one_of_its_codes_runs(codes, states, units)
        self.invariant_3_only_codes_on_no_unit_moved_and_only_unstarted_ones_voided(new_events)
        self.invariant_4_codes_sit_only_inside_their_holders_subtree(codes, states)
        self.invariant_5_every_change_is_audited_and_the_log_only_grows(new_events)
        self.invariant_7_nothing_is_lost(codes, units)

    def state_in_python_and_in_sql_agree(self, states):
        sql = dict(with_state(Code.objects.filter(pk__in=self.code_ids)).values_list("pk", "state"))
        assert sql == states

    def invariant_1_one_unit_at_most_and_none_when_expired_or_revoked(self, codes, states, units):
        on_units: dict[int, int] = {}
        for unit in units:
            cover = unit_cover(unit)
            chain = ([cover.running] if cover.running else []) + cover.scheduled
            for code in chain:
                assert code.pk not in on_units, "a code sits on two units"
                on_units[code.pk] = unit.pk
                assert states[code.pk] in ON_UNIT
            # The chain has no gap and no overlap, and only its head runs.
            for before, after in zip(chain, chain[1:], strict=False):
                assert after.activated_at == before.expires_at
            if cover.scheduled:
                assert cover.running is not None, "scheduled codes behind no running code: a hole"
            assert cover.covered_until == unit.covered_until
        for code in codes:
            if states[code.pk] in ON_UNIT:
                assert on_units.get(code.pk) == code.unit_id
            else:  # expired, revoked, available, released: on no unit's cover
                assert code.pk not in on_units
            if states[code.pk] == CodeState.REVOKED:
                assert code.unit_id is None and code.activated_at is None
            if code.unit_id is not None:  # taken only by its redemption, which ends the reservation
                assert code.reserved_for == "" and code.reserved_at is None

    def invariant_2_a_unit_is_active_exactly_when_one_of_its_codes_runs(self, codes, states, units):
        for unit in units:
            running = [c for c in codes if c.unit_id == unit.pk and states[c.pk] == CodeState.RUNNING]
            assert len(running) <= 1
            assert unit_is_active(unit) == bool(running) == unit.active_now
            if self.job_is_current:  # the job records what the clock decided
                assert unit.is_active == bool(running), "Unit.is_active disagrees after the job ran"
        if self.job_is_current:
            assert all(code.status == states[code.pk] for code in codes)

    def invariant_3_only_codes_on_no_unit_moved_and_only_unstarted_ones_voided(self, new_events):
        for event in new_events:
            if event.action in (Action.SHARED, Action.RECALLED):
                assert event.unit_id is None
            if event.action == Action.REVOKED:
                assert event.activated_at is None
            if event.action == Action.SHARED:
                assert event.from_account.strictly_contains(event.to_account)
            if event.action == Action.RECALLED:
                assert event.to_account.strictly_contains(event.from_account)

    def invariant_4_codes_sit_only_inside_their_holders_subtree(self, codes, states):
        for code in codes:
            if states[code.pk] in ON_UNIT:
                assert code.holder.contains(code.unit.owner)
                assert code.provider_id == code.unit.provider_id

    def invariant_5_every_change_is_audited_and_the_log_only_grows(self, new_events):
        old = list(Event.objects.filter(pk__lte=self.last_event_pk).order_by("pk").values_list(*EVENT_FIELDS))
        assert old == self.seen_events, "the audit log lost or changed an entry"
        codes, units = self._codes_now(), self._units_now()
        touched_codes = {e.code_id for e in new_events}
        touched_units = {e.unit_id for e in new_events if e.action in (Action.UNIT_ACTIVATED, Action.UNIT_DEACTIVATED)}
        for pk, row in codes.items():
            if row != self.last_codes.get(pk):
                assert pk in touched_codes, f"code {pk} changed without an audit entry: {self.last_codes[pk]} -> {row}"
        for pk, active in units.items():
            if active != self.last_units.get(pk):
                assert pk in touched_units, f"unit {pk} changed state without an audit entry"
        for pk, row in codes.items():
            if row["activated_at"] is not None and row["activated_at"] <= self.now:
                clock = (row["activated_at"], row["expires_at"])
                assert self.started.setdefault(pk, clock) == clock, "a started code's clock changed"
        self.last_codes, self.last_units = codes, units
        self.remember_events()

    def invariant_7_nothing_is_lost(self, codes, units):
        assert len(codes) == CODE_COUNT and len(units) == len(UNIT_OWNERS)

    def remember_events(self):
        self.seen_events = list(Event.objects.order_by("pk").values_list(*EVENT_FIELDS))
        self.last_event_pk = self.seen_events[-1][0] if self.seen_events else 0


# The rules, not the rate limits: hundreds of sends to a few addresses would go over the mail limits.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], RATELIMIT_ENABLE=False)
class TestCodeLifecycleInvariants(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.net = build_network()

    def test_random_sequences_of_service_calls_and_clock_moves_keep_every_invariant(self):
        CodeLifecycle.net = self.net
        STATS.clear()
        run_state_machine_as_test(
            CodeLifecycle,
            settings=settings(
                max_examples=examples(30),
                stateful_step_count=40,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        # Every rule must have been exercised both ways, not only refused: a rule that never
        # succeeds proves nothing about the changes it makes.
        for name in (
            "share", "recall", "revoke", "attach", "attach_two_in_bulk", "release", "redeem_anonymously", "send_by_email",
            "cancel_reservation",
        ):
            assert STATS[f"{name} ok"] >= 3, (name, str(sorted(STATS.items())))
            assert STATS[f"{name} refused"] >= 3, (name, str(sorted(STATS.items())))
