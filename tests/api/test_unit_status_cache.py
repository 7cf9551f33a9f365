"""The unit-status call answered from the cache (issue 7): `GET /api/v1/units/{hardware id}/`
with a token, as a tracking server asks it before accepting a unit's data.

What must hold: the cached answer is the viewset's answer, byte for byte; a warm call asks the
database nothing; every change to a unit, its codes, its owner, the caller's token, user or
account shows in the very next answer; time passing changes the answer without any write;
nobody sees another branch's or provider's unit.

The viewset's own answer is asked for with a query string (`?via=viewset`): the cached path
answers only a plain call and hands anything else to the viewset, which ignores the parameter.

Every test commits as production does (`transaction=True`): a change reaches the cache after
its commit, and a transaction that changed something reads around the cache until it ends
(`cms.hotcache.changes_pending`, tested at the end of this module).
"""

import pytest
from django.core.cache import cache

from cms.authentication import api_token_delete
from cms.hotcache import accounts_version_key, logins_version_key, versions_current
from cms.models import ApiToken
from cms.services import account_disable, account_move_customer, account_update, user_disable
from codes.services import code_attach, code_redeem, code_release, code_revoke, codes_archive_expired, codes_expire_due
from tests import factories
from tests.api.conftest import assert_error, published, ready_local_tier
from tests.domain.support import DAY, T0
from units.cover_cache import cover_key, cover_record, unit_version_key
from units.services import unit_update

pytestmark = pytest.mark.django_db(transaction=True)

FOREVER = 10 * 365 * 24 * 3600  # cache entries that outlive the clock's jumps


def url(unit) -> str:
    return f"/api/v1/units/{unit.hardware_id}/"


def cached(api, unit):
    return api.get(url(unit))


def from_viewset(api, unit):
    return api.get(url(unit), {"via": "viewset"})


def assert_same_answer(api, unit):
    """The cached answer is the viewset's, byte for byte, with the same headers that matter."""
    fast, slow = cached(api, unit), from_viewset(api, unit)
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    for header in ("Content-Type", "Vary", "Allow"):
        assert fast[header] == slow[header], header
    return fast.json()


# --- the same answer ---------------------------------------------------------------------------


def test_given_a_unit_without_codes_when_asked_twice_then_both_answers_are_the_viewsets(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    assert assert_same_answer(api, harvest_unit)["state"] == "deactivated"
    assert assert_same_answer(api, harvest_unit)["state"] == "deactivated"  # warm now


def test_given_running_and_scheduled_codes_and_unusual_names_when_asked_then_the_answer_is_the_viewsets(
    network, api_for, acme_codes
):
    unit = factories.unit(network.harvest, actor=network.provider_admin, name="Trактор “Ø” \u2028 7", hardware_id="ab-12 cd")
    unit_update(actor=network.provider_admin, unit=unit, name=unit.name, device_type="FMB920 ✓")
    for code in acme_codes[:3]:
        code_attach(code=code, unit=unit, actor=network.provider_admin)
    for user in (network.provider_admin, network.north_admin, network.north_farms_operator, network.harvest_user):
        body = assert_same_answer(api_for(user), unit)
        assert body["state"] == "active" and len(body["scheduled"]) == 2


def test_given_a_hardware_id_typed_loosely_when_asked_then_the_cached_answer_finds_the_unit(network, api_for):
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="AB12CD")
    api = api_for(network.provider_admin)
    assert api.get("/api/v1/units/ab12cd/").json()["hardware_id"] == "AB12CD"
    assert api.get("/api/v1/units/%20Ab12cD%20/").content == from_viewset(api, unit).content


# --- no query when warm ------------------------------------------------------------------------


def test_given_a_warm_cache_when_a_token_asks_about_a_unit_then_no_query_is_made(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    for code in acme_codes[:3]:
        code_attach(code=code, unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.provider_operator)
    assert cached(api, harvest_unit).status_code == 200  # builds the token entry and the unit's record

    with django_assert_num_queries(0):
        assert cached(api, harvest_unit).status_code == 200


def test_given_a_record_built_for_one_caller_when_another_of_the_same_tree_asks_then_only_its_token_is_looked_up(
    network, api_for, harvest_unit, django_assert_num_queries
):
    cached(api_for(network.provider_admin), harvest_unit)
    north = api_for(network.north_admin)
    with django_assert_num_queries(2):  # its token (with user and account) and its last_used_at; the record is shared
        assert cached(north, harvest_unit).status_code == 200
    with django_assert_num_queries(0):
        assert cached(north, harvest_unit).status_code == 200


# --- every change shows at once ------------------------------------------------------------------


def test_given_a_warm_answer_when_codes_are_attached_then_the_next_answer_shows_them(network, api_for, acme_codes, harvest_unit):
    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"

    running = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    body = assert_same_answer(api, harvest_unit)
    assert body["state"] == "active" and body["running"]["code"] == running.display_text

    scheduled = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    body = assert_same_answer(api, harvest_unit)
    assert [c["code"] for c in body["scheduled"]] == [scheduled.display_text]


def test_given_a_warm_answer_when_the_running_code_is_released_then_the_scheduled_one_moves_up(
    network, api_for, acme_codes, harvest_unit
):
    running = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    scheduled = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["running"]["code"] == running.display_text

    code_release(code=running, actor=network.provider_admin)

    body = assert_same_answer(api, harvest_unit)
    assert body["running"]["code"] == scheduled.display_text and body["scheduled"] == []


def test_given_a_warm_answer_when_the_last_code_is_released_then_the_unit_is_deactivated(network, api_for, acme_codes, harvest_unit):
    code = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.harvest_user)
    assert cached(api, harvest_unit).json()["state"] == "active"

    code_release(code=code, actor=network.provider_admin)

    assert assert_same_answer(api, harvest_unit)["state"] == "deactivated"


def test_given_a_warm_answer_when_the_customer_redeems_a_code_then_the_next_answer_shows_it(
    network, api_for, acme_codes, harvest_unit
):
    api = api_for(network.harvest_user)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"

    redeemed = code_redeem(code_text=acme_codes[0].display_text, hardware_id=harvest_unit.hardware_id)

    body = assert_same_answer(api, harvest_unit)
    assert body["state"] == "active" and body["running"]["code"] == redeemed.display_text


def test_given_a_warm_answer_when_a_code_on_the_unit_would_be_revoked_then_it_is_refused_and_the_answer_stays(
    network, api_for, acme_codes, harvest_unit
):
    from cms.errors import DomainError

    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.north_admin)
    before = cached(api, harvest_unit).content
    code_revoke(code=acme_codes[1], actor=network.provider_admin)  # a code on no unit: no cover changes
    with pytest.raises(DomainError):
        code_revoke(code=acme_codes[0], actor=network.provider_admin)  # only an unstarted code can be revoked
    assert cached(api, harvest_unit).content == before == from_viewset(api, harvest_unit).content


def test_given_a_warm_answer_when_the_unit_is_renamed_then_the_next_answer_has_the_new_name(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    cached(api, harvest_unit)

    unit_update(actor=network.north_admin, unit=harvest_unit, name="Combine 2", device_type="FMC130")

    body = assert_same_answer(api, harvest_unit)
    assert (body["name"], body["device_type"]) == ("Combine 2", "FMC130")


def test_given_a_warm_answer_when_the_owner_is_renamed_then_the_next_answer_names_it_so(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    cached(api, harvest_unit)

    account_update(actor=network.provider_admin, account=network.harvest, name="Harvest Ltd", time_zone="UTC")

    assert assert_same_answer(api, harvest_unit)["owner"]["name"] == "Harvest Ltd"


def test_given_warm_answers_when_the_customer_moves_to_another_branch_then_the_old_branch_gets_404(
    network, api_for, harvest_unit
):
    north, south, harvest = api_for(network.north_admin), api_for(network.south_admin), api_for(network.harvest_user)
    assert cached(north, harvest_unit).status_code == 200
    assert_error(cached(south, harvest_unit), 404, "not_found")
    assert cached(harvest, harvest_unit).status_code == 200

    account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.south)

    assert_error(cached(north, harvest_unit), 404, "not_found")
    assert assert_same_answer(south, harvest_unit)["owner"]["id"] == network.harvest.pk
    assert assert_same_answer(harvest, harvest_unit)["owner"]["id"] == network.harvest.pk  # its own path changed


def test_given_the_expiry_job_when_it_records_a_unit_then_the_units_record_is_rebuilt(
    network, api_for, acme_codes, harvest_unit, clock, settings, django_assert_num_queries
):
    settings.KEYLINE_COVER_CACHE_SECONDS = settings.KEYLINE_TOKEN_CACHE_SECONDS = FOREVER
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.north_admin)
    cached(api, harvest_unit)
    clock.shift(31 * DAY)
    with django_assert_num_queries(0):  # the clock alone ended the code; the record still serves
        assert cached(api, harvest_unit).json()["state"] == "deactivated"

    assert codes_expire_due().expired == 1
    codes_archive_expired()

    with django_assert_num_queries(2):  # the unit, its codes: the job gave the record up
        assert cached(api, harvest_unit).json()["state"] == "deactivated"
    assert_same_answer(api, harvest_unit)


# --- tokens, users, accounts ---------------------------------------------------------------------


def test_given_a_warm_token_when_it_is_deleted_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).status_code == 200
    token = ApiToken.objects.get(user=network.north_admin)

    api_token_delete(user=network.north_admin, token_id=token.pk)

    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


def test_given_a_warm_token_when_its_user_is_disabled_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_farms_operator)
    assert cached(api, harvest_unit).status_code == 200

    user_disable(actor=network.north_admin, user=network.north_farms_operator)

    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


def test_given_a_warm_token_when_its_account_is_disabled_then_the_next_call_is_refused(network, api_for, harvest_unit):
    api = api_for(network.north_farms_operator)
    assert cached(api, harvest_unit).status_code == 200

    account_disable(actor=network.north_admin, account=network.north_farms)

    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


def test_given_a_warm_token_when_an_admin_edits_the_user_directly_then_the_next_call_is_refused(
    network, api_for, harvest_unit
):
    """Writes outside the services (the Django admin, the shell) are covered by signals."""
    api = api_for(network.harvest_user)
    assert cached(api, harvest_unit).status_code == 200
    network.harvest_user.is_active = False
    network.harvest_user.save()
    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


# --- time passes, nothing is written -------------------------------------------------------------


def test_given_a_warm_record_when_time_passes_then_scheduled_codes_start_and_running_ones_end_without_a_write(
    network, api_for, acme_codes, harvest_unit, clock, settings, django_assert_num_queries
):
    settings.KEYLINE_COVER_CACHE_SECONDS = settings.KEYLINE_TOKEN_CACHE_SECONDS = FOREVER
    first = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    second = code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    api = api_for(network.harvest_user)
    body = cached(api, harvest_unit).json()
    assert (body["running"]["code"], body["days_left"]) == (first.display_text, 60)

    clock.move_to(T0 + 10 * DAY)
    with django_assert_num_queries(0):
        body = cached(api, harvest_unit).json()
    assert (body["running"]["code"], body["days_left"]) == (first.display_text, 50)

    clock.move_to(T0 + 30 * DAY)  # the first ends exactly when the second starts
    with django_assert_num_queries(0):
        body = cached(api, harvest_unit).json()
    assert body["state"] == "active" and body["running"]["code"] == second.display_text
    assert body["running"]["state"] == "running" and body["scheduled"] == [] and body["days_left"] == 30

    clock.move_to(T0 + 60 * DAY)
    with django_assert_num_queries(0):
        body = cached(api, harvest_unit).json()
    assert body["state"] == "deactivated" and body["running"] is None and body["covered_until"] is None
    assert body["days_left"] == 0
    assert cached(api, harvest_unit).content == from_viewset(api, harvest_unit).content


# --- nobody sees another branch's unit -----------------------------------------------------------


def test_given_a_warm_record_when_another_branch_or_provider_asks_then_404(network, api_for, harvest_unit):
    assert cached(api_for(network.provider_admin), harvest_unit).status_code == 200  # the record is warm

    for user in (network.south_admin, network.rival_admin):
        response = cached(api_for(user), harvest_unit)
        assert_error(response, 404, "not_found")
        assert harvest_unit.name.encode() not in response.content


def test_given_the_same_hardware_id_at_two_providers_when_each_asks_then_each_sees_its_own(network, api_for):
    ours = factories.unit(network.harvest, actor=network.provider_admin, name="Ours", hardware_id="777")
    theirs = factories.unit(network.rival_customer, actor=network.rival_admin, name="Theirs", hardware_id="777")
    acme, rival = api_for(network.provider_admin), api_for(network.rival_admin)
    for _ in range(2):
        assert cached(acme, ours).json()["name"] == "Ours"
        assert cached(rival, theirs).json()["name"] == "Theirs"


# --- what the cache does not answer goes to the viewset -----------------------------------------


def test_given_no_token_or_a_wrong_one_when_asking_then_the_apis_401(db, harvest_unit):
    from rest_framework.test import APIClient

    response = APIClient().get(url(harvest_unit))
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert_error(client.get(url(harvest_unit)), 401, "authentication_failed")


def test_given_a_signed_in_browser_when_asking_then_the_viewset_answers(network, client, harvest_unit):
    client.force_login(network.north_admin)
    assert client.get(url(harvest_unit), HTTP_ACCEPT="application/json").json()["hardware_id"] == harvest_unit.hardware_id
    assert b"<html" in client.get(url(harvest_unit), HTTP_ACCEPT="text/html").content  # the browsable API


def test_given_another_method_when_calling_then_the_apis_405(network, api_for, harvest_unit):
    assert_error(api_for(network.provider_admin).post(url(harvest_unit), {}, format="json"), 405, "method_not_allowed")


def test_given_the_cache_is_down_when_asking_then_the_database_answers(network, api_for, harvest_unit, monkeypatch):
    api = api_for(network.north_admin)

    class Down:
        def get_many(self, keys):
            raise ConnectionError("cache unreachable")

    monkeypatch.setattr("units.cover_cache.cache", Down())
    assert cached(api, harvest_unit).content == from_viewset(api, harvest_unit).content


# --- why versions, not deletes ------------------------------------------------------------------


def test_given_a_record_rebuilt_from_before_a_change_when_the_change_commits_then_it_is_never_used(
    network, api_for, acme_codes, harvest_unit
):
    """A reader that missed may store what it read before a change committed. The change's
    versions, set after its commit, make that record useless."""
    api = api_for(network.north_admin)
    hardware_id = harvest_unit.hardware_id
    versions = (cache.get(unit_version_key(hardware_id)), cache.get(accounts_version_key()))  # the reader reads first
    stale = cover_record(harvest_unit, versions=versions)  # ... then the database, before the change
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    cache.set(cover_key(hardware_id), {network.provider.path: stale})  # ... and stores it after the commit

    assert cached(api, harvest_unit).json()["state"] == "active"


def test_given_a_units_version_dropped_by_the_cache_after_each_change_then_the_answer_is_never_stale(
    network, api_for, acme_codes, harvest_unit
):
    """A cache may drop a version key (Redis evicting, the file cache culling a third of its
    entries at random). A record built while the key was missing must not look current when it
    goes missing again after a change: a missing key gets a fresh value before anything is
    built under it."""
    api = api_for(network.harvest_user)
    version = unit_version_key(harvest_unit.hardware_id)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"

    code = code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    cache.delete(version)
    assert assert_same_answer(api, harvest_unit)["state"] == "active"  # rebuilt, the key missing

    code_release(code=code, actor=network.provider_admin)
    cache.delete(version)

    assert assert_same_answer(api, harvest_unit)["state"] == "deactivated"
    assert cache.get(version) is not None


def test_given_the_logins_version_dropped_by_the_cache_after_each_change_then_a_disabled_user_is_refused(
    network, api_for, harvest_unit
):
    api = api_for(network.north_farms_operator)
    assert cached(api, harvest_unit).status_code == 200
    spare, _key = ApiToken.issue(user=network.north_farms_operator, name="spare")
    api_token_delete(user=network.north_farms_operator, token_id=spare.pk)  # a change of logins
    cache.delete(logins_version_key())
    assert cached(api, harvest_unit).status_code == 200  # the token entry rebuilt, the key missing

    user_disable(actor=network.north_admin, user=network.north_farms_operator)
    cache.delete(logins_version_key())

    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


# --- a transaction that changed something reads around the cache ------------------------------


def test_given_a_change_in_an_open_transaction_when_asked_in_it_then_the_database_answers_and_nothing_is_stored(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    from django.db import transaction

    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"  # warm
    hardware_id = harvest_unit.hardware_id
    version_before, entry_before = cache.get(unit_version_key(hardware_id)), cache.get(cover_key(hardware_id))

    with transaction.atomic():
        code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
        assert cache.get(unit_version_key(hardware_id)) == version_before, "published only after commit"
        assert cached(api, harvest_unit).json()["state"] == "active", "the transaction sees its own change"
        assert cache.get(cover_key(hardware_id)) == entry_before, "and stores nothing it read"

    assert cache.get(unit_version_key(hardware_id)) != version_before
    assert assert_same_answer(api, harvest_unit)["state"] == "active"
    with django_assert_num_queries(0):
        assert cached(api, harvest_unit).json()["state"] == "active"


def test_given_a_change_rolled_back_when_asked_after_then_the_cache_still_answers_as_before(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    from django.db import transaction

    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"
    version_before = cache.get(unit_version_key(harvest_unit.hardware_id))

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
        assert cached(api, harvest_unit).json()["state"] == "active"
        raise Undo

    assert cache.get(unit_version_key(harvest_unit.hardware_id)) == version_before, "nothing was published"
    with django_assert_num_queries(0):
        assert cached(api, harvest_unit).json()["state"] == "deactivated"


def test_given_a_change_in_a_savepoint_rolled_back_when_asked_in_the_transaction_then_the_cache_answers_again(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    from django.db import transaction

    from cms.hotcache import changes_pending

    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"

    with transaction.atomic():
        try:
            with transaction.atomic():
                code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
                assert changes_pending()
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        assert not changes_pending()
        with django_assert_num_queries(0):
            assert cached(api, harvest_unit).json()["state"] == "deactivated"


# --- the real Redis --------------------------------------------------------------------------------


@pytest.mark.redis
def test_given_redis_when_a_token_asks_then_the_answer_is_the_viewsets_and_warm_calls_make_no_query(
    network, api_for, acme_codes, harvest_unit, django_assert_num_queries
):
    api = api_for(network.north_admin)
    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    assert_same_answer(api, harvest_unit)
    with django_assert_num_queries(0):
        assert cached(api, harvest_unit).json()["state"] == "active"
    code_attach(code=acme_codes[1], unit=harvest_unit, actor=network.provider_admin)
    assert len(assert_same_answer(api, harvest_unit)["scheduled"]) == 1


# --- the per-process tier (needs Redis: it listens to the changes channel) ------------------------


@pytest.mark.redis
def test_given_the_local_tier_when_asked_again_then_not_even_the_cache_is_asked_and_changes_show_at_once(
    network, api_for, acme_codes, harvest_unit, settings, monkeypatch
):
    ready_local_tier(settings)
    api = api_for(network.north_admin)
    assert cached(api, harvest_unit).json()["state"] == "deactivated"

    class Unreachable:
        def get_many(self, keys):
            raise AssertionError("the cache was asked")

    with monkeypatch.context() as patched:
        patched.setattr("units.cover_cache.cache", Unreachable())
        assert cached(api, harvest_unit).json()["state"] == "deactivated"

    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)
    assert assert_same_answer(api, harvest_unit)["state"] == "active"
    api_token_delete(user=network.north_admin, token_id=ApiToken.objects.get(user=network.north_admin).pk)
    assert_error(cached(api, harvest_unit), 401, "authentication_failed")


@pytest.mark.redis
def test_given_the_local_tier_when_another_process_publishes_a_change_then_this_process_drops_the_unit(
    network, api_for, harvest_unit, south_unit, settings
):
    tier = ready_local_tier(settings)
    api = api_for(network.provider_admin)
    cached(api, harvest_unit), cached(api, south_unit)
    assert {harvest_unit.hardware_id, south_unit.hardware_id} <= set(tier.entries)

    published([harvest_unit.hardware_id], until=lambda: harvest_unit.hardware_id not in tier.entries)
    assert harvest_unit.hardware_id not in tier.entries and south_unit.hardware_id in tier.entries

    published(None, until=lambda: not tier.entries)  # an account or a login changed
    assert tier.entries == {}


@pytest.mark.redis
def test_given_the_local_tier_when_changes_come_in_a_stream_then_every_unit_they_name_is_dropped(
    network, api_for, harvest_unit, south_unit, settings
):
    tier = ready_local_tier(settings)
    api = api_for(network.provider_admin)
    cached(api, harvest_unit), cached(api, south_unit)
    both = {harvest_unit.hardware_id, south_unit.hardware_id}
    assert both <= set(tier.entries)

    # What other processes send when their changes commit one after another: the first is acted
    # on at once, the ones that follow within COALESCE_SECONDS together.
    published(["359999999999999"], until=lambda: True)
    published([harvest_unit.hardware_id], until=lambda: True)
    published([south_unit.hardware_id], until=lambda: not both & set(tier.entries))
    assert not both & set(tier.entries)


def test_given_change_messages_read_together_then_their_units_are_dropped_together_and_one_everything_drops_all():
    from cms.hotcache import _scope_of

    def message(data):
        return {"type": "message", "data": data.encode()}

    subscribed = {"type": "subscribe", "data": 1}
    assert _scope_of([message('["B", "A"]'), subscribed, message('["A", "C"]')]) == ["A", "B", "C"]
    assert _scope_of([message('["A"]'), message("*"), message('["C"]')]) is None


@pytest.mark.redis
def test_given_the_local_tier_when_a_code_is_attached_then_the_units_new_version_and_the_message_go_out(
    network, acme_codes, harvest_unit, settings
):
    import json
    import time

    from cms import hotcache

    ready_local_tier(settings)
    pubsub = cache.client.get_client(write=False).pubsub()
    pubsub.subscribe(hotcache._channel())
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    before = cache.get(unit_version_key(harvest_unit.hardware_id))

    code_attach(code=acme_codes[0], unit=harvest_unit, actor=network.provider_admin)

    deadline, messages = time.monotonic() + 5, []
    while not messages and time.monotonic() < deadline:
        if (message := pubsub.get_message(timeout=0.1)) is not None and message["type"] == "message":
            messages.append(json.loads(message["data"]))
    pubsub.close()
    assert messages == [[harvest_unit.hardware_id]]
    assert cache.get(unit_version_key(harvest_unit.hardware_id)) not in (None, before)


@pytest.mark.redis
def test_given_the_local_tier_when_many_units_change_at_once_then_each_gets_a_new_version_and_one_message_goes_out(
    network, settings, monkeypatch
):
    """The expiry job renews thousands of units' versions in one change: as MSETs (here of two
    keys each, so one change takes several) in one MULTI/EXEC with the message."""
    import json
    import time

    from django.db import transaction

    from cms import hotcache
    from units.cover_cache import units_changed

    ready_local_tier(settings)
    monkeypatch.setattr(hotcache, "_KEYS_PER_MSET", 2)
    changed = [factories.unit(network.harvest, actor=network.provider_admin) for _ in range(5)]
    untouched = factories.unit(network.harvest, actor=network.provider_admin)
    with transaction.atomic():
        units_changed([untouched.hardware_id])
    versions = lambda: {u.hardware_id: cache.get(unit_version_key(u.hardware_id)) for u in [*changed, untouched]}  # noqa: E731
    before = versions()
    pubsub = cache.client.get_client(write=False).pubsub()
    pubsub.subscribe(hotcache._channel())
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"

    with transaction.atomic():
        units_changed(u.hardware_id for u in changed)

    deadline, messages = time.monotonic() + 5, []
    while not messages and time.monotonic() < deadline:
        if (message := pubsub.get_message(timeout=0.1)) is not None and message["type"] == "message":
            messages.append(json.loads(message["data"]))
    pubsub.close()
    after = versions()
    assert messages == [sorted(u.hardware_id for u in changed)]
    assert all(after[u.hardware_id] not in (None, before[u.hardware_id]) for u in changed)
    assert after[untouched.hardware_id] == before[untouched.hardware_id] is not None


def test_given_a_missing_version_when_read_then_it_gets_a_fresh_value_which_the_cache_holds():
    key = unit_version_key("356938035699990")
    (value,) = versions_current({}, [key])

    assert value is not None and cache.get(key) == value
    assert versions_current({}, [unit_version_key("356938035699991")]) != (value,)


def test_given_a_missing_version_when_another_process_sets_it_first_then_its_value_is_the_current_one():
    key = unit_version_key("356938035699992")
    got = cache.get_many([key])  # read: missing
    cache.set(key, "set-by-another-process")  # ... meanwhile

    assert versions_current(got, [key]) == ("set-by-another-process",)
