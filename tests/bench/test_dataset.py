"""The benchmark's data set (`bench.dataset.build`, COPY straight into the tables) obeys the same
rules as data the services write: otherwise `make bench` would measure queries over rows that
production never holds. Built small (2,000 codes) in the test database; no timing is asserted."""

from collections import Counter

import pytest
from django.db.models import F
from django.utils import timezone

from audit.models import Action, Event
from bench import dataset
from cms.models import Account
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.selectors import codes_visible_to, with_state
from units.models import Unit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SCALE = 2000


@pytest.fixture
def built():
    return dataset.build(SCALE, seed=11)


def test_given_a_scale_when_built_then_it_holds_that_many_codes_in_every_state_in_its_proportions(built):
    counts = Counter(Code.objects.values_list("status", flat=True))
    units = SCALE // 10

    assert sum(counts.values()) == SCALE
    assert counts[CodeState.RUNNING] == int(units * 0.7)
    assert counts[CodeState.SCHEDULED] == int(units * 0.1)
    assert counts[CodeState.RELEASED] == int(SCALE * 0.02)
    assert counts[CodeState.REVOKED] == int(SCALE * 0.02)
    assert counts[CodeState.EXPIRED] == int(SCALE * 0.35)
    assert counts[CodeState.AVAILABLE] == SCALE - sum(
        counts[s] for s in CodeState if s != CodeState.AVAILABLE
    )
    assert Unit.objects.count() == units
    # Half the expired codes are archived (taken off their unit), the others still sit on it.
    expired = Code.objects.filter(status=CodeState.EXPIRED)
    assert expired.filter(archived_at__isnull=False, unit__isnull=True).count() == (counts[CodeState.EXPIRED] + 1) // 2
    assert not expired.filter(archived_at__isnull=False, unit__isnull=False).exists()


def test_given_the_built_set_then_the_recorded_state_is_the_state_the_clock_derives(built):
    now = timezone.now()
    mismatches = [
        (code.pk, code.status, code_state(code, now))
        for code in Code.objects.all()
        if code_state(code, now) != code.status
    ]
    assert mismatches == []
    # The SQL twin used by the window agrees too.
    assert not with_state(Code.objects.all(), now).exclude(state=F("status")).exists()


def test_given_the_built_set_then_a_unit_is_active_exactly_when_one_of_its_codes_runs(built):
    running_units = set(Code.objects.filter(status=CodeState.RUNNING).values_list("unit_id", flat=True))
    active_units = set(Unit.objects.filter(is_active=True).values_list("pk", flat=True))

    assert running_units == active_units
    assert Code.objects.filter(status=CodeState.RUNNING).count() == len(running_units)  # one per unit


def test_given_a_scheduled_code_then_it_starts_exactly_when_the_running_code_before_it_ends(built):
    running_end = dict(Code.objects.filter(status=CodeState.RUNNING).values_list("unit_id", "expires_at"))
    scheduled = list(Code.objects.filter(status=CodeState.SCHEDULED).values_list("unit_id", "activated_at"))

    assert scheduled
    assert all(running_end[unit_id] == start for unit_id, start in scheduled)


def test_given_a_code_on_a_unit_then_the_unit_is_inside_its_holders_subtree(built):
    paths = dict(Account.objects.values_list("pk", "path"))
    rows = Code.objects.filter(unit__isnull=False).values_list("holder_id", "unit__owner_id")

    outside = [(holder, owner) for holder, owner in rows if not paths[owner].startswith(paths[holder])]
    assert outside == []


def test_given_the_built_set_then_final_codes_sit_on_no_unit_and_unstarted_codes_have_no_times(built):
    assert not Code.objects.filter(status=CodeState.REVOKED, unit__isnull=False).exists()
    assert not Code.objects.filter(status=CodeState.AVAILABLE).exclude(activated_at=None, expires_at=None).exists()
    assert not Code.objects.filter(status=CodeState.RELEASED, unit__isnull=False).exists()
    assert not Code.objects.filter(expires_at__lte=F("activated_at")).exists()


def test_given_the_built_set_then_codes_come_from_the_batch_of_their_period(built):
    assert not Code.objects.exclude(period_days=F("batch__period_days")).exists()
    assert set(Code.objects.values_list("provider_id", flat=True)) == {built.provider.pk}


def test_given_the_built_tree_then_the_sub_reseller_sees_its_branch_only_and_has_units_to_ask_about(built):
    sub_codes = codes_visible_to(built.sub_reseller_user)
    branch = set(
        Account.objects.filter(path__startswith=built.sub_reseller.path).values_list("pk", flat=True)
    )

    assert sub_codes.exists()
    assert set(sub_codes.values_list("holder_id", flat=True)) <= branch
    assert codes_visible_to(built.provider_user).count() == SCALE
    assert built.sub_hardware_ids
    assert set(
        Unit.objects.filter(hardware_id__in=built.sub_hardware_ids).values_list("owner_id", flat=True)
    ) <= branch
    assert len(built.resellers_by_level[1]) + len(built.resellers_by_level[2]) + len(built.resellers_by_level[3]) == 50


def test_given_the_built_set_then_every_code_on_a_unit_has_its_attach_entry(built):
    on_unit = set(
        Code.objects.filter(status__in=[CodeState.RUNNING, CodeState.SCHEDULED]).values_list("pk", flat=True)
    )
    audited = set(Event.objects.filter(action=Action.ATTACHED).values_list("code_id", flat=True))

    assert on_unit == audited


def test_given_a_redeemable_pair_then_the_code_is_unused_and_the_unit_belongs_to_the_provider(built):
    pairs = dataset.redeemable_pairs(built.provider, 20)

    assert len(pairs) == 20
    assert len({hw for _code, hw in pairs}) == 20
    codes = Code.objects.filter(text__in=[code for code, _hw in pairs])
    assert {code_state(c) for c in codes} == {CodeState.AVAILABLE}
    assert {c.holder_id for c in codes} == {built.provider.pk}


def test_given_the_built_set_when_codes_are_made_due_then_the_expiry_job_expires_exactly_those(built):
    from codes.services import codes_expire_due

    now = timezone.now()
    made = dataset.make_due(60, now)
    run = codes_expire_due(now=now)

    assert sum(made.values()) == 60
    assert made["running"] > 0
    assert run.expired == 60
    mismatches = [c.pk for c in Code.objects.all() if code_state(c, now) != c.status]
    assert mismatches == []
