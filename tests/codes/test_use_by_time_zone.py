"""A use-by date is a day in the provider's time zone (`codes.use_by`, DOMAIN.md "available:
use-by date not passed").

T0 is 2027-03-01 09:00 UTC. That day ends at 11:00 UTC in Auckland (NZDT, UTC+13) and at
08:00 UTC the next day in Los Angeles (PST, UTC-8): a code "to be used by 1 March" lapses at
those moments, not at midnight UTC.
"""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from audit.models import Action, Event
from cms.errors import DomainError
from cms.services import account_update
from codes.models import Code, CodeState
from codes.rules import code_state
from codes.selectors import with_state
from codes.services import batch_generate, code_attach, codes_expire_due
from codes.use_by import use_by_ends_at
from tests import factories
from tests.domain.support import DAY, T0, code_for, refresh

AUCKLAND_MIDNIGHT = datetime(2027, 3, 1, 11, 0, tzinfo=UTC)
LOS_ANGELES_MIDNIGHT = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
MOMENT = timedelta(seconds=1)


def provider_in(network, time_zone: str):
    account_update(actor=network.provider_admin, account=network.provider, name=network.provider.name,
                   time_zone=time_zone)
    network.provider_admin.account.refresh_from_db()  # as the next request would load it


def state_in_sql(code) -> str:
    return with_state(Code.objects.filter(pk=code.pk)).values_list("state", flat=True).get()


def unit_of(network):
    return factories.unit(network.harvest, actor=network.provider_admin)


class TestAProviderAheadOfUtc:
    def test_given_the_use_by_day_has_ended_in_auckland_then_the_code_has_lapsed_while_utc_is_still_on_that_day(
        self, network, clock
    ):
        provider_in(network, "Pacific/Auckland")
        code = code_for(network, use_by=T0.date())
        assert refresh(code).usable_until == AUCKLAND_MIDNIGHT

        clock.move_to(AUCKLAND_MIDNIGHT - MOMENT)
        assert code_state(refresh(code)) == state_in_sql(code) == CodeState.AVAILABLE

        clock.move_to(AUCKLAND_MIDNIGHT)
        assert code_state(refresh(code)) == state_in_sql(code) == CodeState.EXPIRED
        with pytest.raises(DomainError) as error:
            code_attach(code=refresh(code), unit=unit_of(network), actor=network.provider_admin)
        assert error.value.code == "code_use_by_passed"

    def test_given_the_use_by_day_has_ended_in_auckland_then_the_expiry_job_records_the_lapse(self, network, clock):
        provider_in(network, "Pacific/Auckland")
        code = code_for(network, use_by=T0.date())
        clock.move_to(AUCKLAND_MIDNIGHT - MOMENT)
        assert codes_expire_due().expired == 0

        clock.move_to(AUCKLAND_MIDNIGHT)
        assert codes_expire_due().expired == 1
        assert refresh(code).status == CodeState.EXPIRED
        assert Event.objects.get(code=code, action=Action.EXPIRED).details == {"use_by_passed": True}

    def test_given_it_is_already_the_next_day_in_auckland_then_that_date_is_refused_as_a_use_by_date(
        self, network, clock
    ):
        provider_in(network, "Pacific/Auckland")
        clock.move_to(AUCKLAND_MIDNIGHT + MOMENT)  # still 1 March in UTC
        with pytest.raises(DomainError) as error:
            factories.batch(network.provider_admin, use_by=date(2027, 3, 1))
        assert [refusal.item for refusal in error.value.refusals] == ["use_by"]


class TestAProviderBehindUtc:
    def test_given_utc_is_past_the_use_by_day_but_los_angeles_is_not_then_the_code_still_attaches(
        self, network, clock
    ):
        provider_in(network, "America/Los_Angeles")
        code = code_for(network, use_by=T0.date())
        assert refresh(code).usable_until == LOS_ANGELES_MIDNIGHT

        clock.move_to(LOS_ANGELES_MIDNIGHT - MOMENT)  # 2 March in UTC
        assert code_state(refresh(code)) == state_in_sql(code) == CodeState.AVAILABLE
        assert codes_expire_due().expired == 0
        code_attach(code=refresh(code), unit=unit_of(network), actor=network.provider_admin)
        assert code_state(refresh(code)) == CodeState.RUNNING

    def test_given_the_day_has_ended_in_los_angeles_then_the_code_has_lapsed(self, network, clock):
        provider_in(network, "America/Los_Angeles")
        code = code_for(network, use_by=T0.date())
        clock.move_to(LOS_ANGELES_MIDNIGHT)
        assert code_state(refresh(code)) == state_in_sql(code) == CodeState.EXPIRED

    def test_given_it_is_still_that_day_in_los_angeles_then_that_date_is_accepted_as_a_use_by_date(
        self, network, clock
    ):
        provider_in(network, "America/Los_Angeles")
        clock.move_to(LOS_ANGELES_MIDNIGHT - MOMENT)
        batch = factories.batch(network.provider_admin, quantity=2, use_by=date(2027, 3, 1))
        assert set(batch.codes.values_list("usable_until", flat=True)) == {LOS_ANGELES_MIDNIGHT}


class TestTheProviderMovesItsTimeZone:
    def test_given_unused_codes_then_their_deadline_moves_to_the_new_zone(self, network, clock):
        unused = code_for(network, use_by=T0.date())
        assert refresh(unused).usable_until == datetime(2027, 3, 2, tzinfo=UTC)

        provider_in(network, "Pacific/Auckland")

        assert refresh(unused).usable_until == AUCKLAND_MIDNIGHT
        assert refresh(unused).use_by == T0.date()  # the date the provider chose does not change

    def test_given_a_code_already_recorded_as_lapsed_then_it_stays_expired(self, network, clock):
        lapsed = code_for(network, use_by=T0.date())
        clock.move_to(T0 + 2 * DAY)
        codes_expire_due()
        later = code_for(network, use_by=(T0 + 3 * DAY).date())

        provider_in(network, "America/Los_Angeles")  # would give the lapsed code eight more hours

        assert refresh(lapsed).usable_until == datetime(2027, 3, 2, tzinfo=UTC)
        assert code_state(refresh(lapsed)) == CodeState.EXPIRED
        assert refresh(later).usable_until == datetime(2027, 3, 5, 8, tzinfo=UTC)

    def test_given_a_code_in_use_then_its_clock_is_not_touched(self, network, clock):
        code = code_for(network, use_by=T0.date())
        code_attach(code=code, unit=unit_of(network), actor=network.provider_admin)
        before = Code.objects.filter(pk=code.pk).values().get()

        provider_in(network, "Pacific/Auckland")

        assert Code.objects.filter(pk=code.pk).values().get() == before

    def test_given_a_reseller_changes_its_zone_then_no_deadline_moves(self, network, clock):
        code = code_for(network, use_by=T0.date())
        account_update(actor=network.provider_admin, account=network.north, name=network.north.name,
                       time_zone="Pacific/Auckland")
        assert refresh(code).usable_until == datetime(2027, 3, 2, tzinfo=UTC)


def test_given_a_zone_whose_clocks_skip_midnight_then_the_day_ends_at_the_first_instant_of_the_next():
    # Chile moves its clocks from 00:00 to 01:00 on 6 September 2026: that day starts at 01:00.
    santiago = zoneinfo.ZoneInfo("America/Santiago")
    ends_at = use_by_ends_at(date(2026, 9, 5), "America/Santiago")
    assert ends_at == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert ends_at.astimezone(santiago).date() == date(2026, 9, 6)
    assert (ends_at - MOMENT).astimezone(santiago).date() == date(2026, 9, 5)


def test_given_no_use_by_date_then_there_is_no_deadline(network, clock):
    assert refresh(code_for(network)).usable_until is None
    assert use_by_ends_at(None, "Pacific/Auckland") is None


def test_given_existing_codes_when_migrated_then_each_gets_its_providers_deadline(network, clock):
    """The data migration of codes/0007 on rows written before it: each provider's own zone."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    fill = import_module("codes.migrations.0007_use_by_in_provider_zone").fill_usable_until
    type(network.provider).objects.filter(pk=network.provider.pk).update(time_zone="Pacific/Auckland")
    code = code_for(network, use_by=T0.date())
    Code.objects.filter(pk=code.pk).update(usable_until=datetime(2000, 1, 1, tzinfo=UTC))  # stale

    fill(apps, SimpleNamespace(connection=connection))

    assert refresh(code).usable_until == AUCKLAND_MIDNIGHT


def test_given_a_use_by_date_then_the_database_refuses_a_code_without_its_deadline(network, clock):
    from django.db import IntegrityError, transaction

    code = code_for(network, use_by=T0.date())
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.filter(pk=code.pk).update(usable_until=None)


def test_given_two_providers_in_two_zones_then_each_batch_gets_its_own_providers_midnight(network, clock):
    provider_in(network, "Pacific/Auckland")
    ours = batch_generate(actor=network.provider_admin, quantity=1, period_days=30, unit_price="1", currency="EUR",
                          use_by=T0.date(), background=False)
    theirs = batch_generate(actor=network.rival_admin, quantity=1, period_days=30, unit_price="1", currency="EUR",
                            use_by=T0.date(), background=False)
    assert ours.codes.get().usable_until == AUCKLAND_MIDNIGHT
    assert theirs.codes.get().usable_until == datetime(2027, 3, 2, tzinfo=UTC)
