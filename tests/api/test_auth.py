"""Authentication: personal tokens (`Authorization: Token <key>`), managed on the profile page
and by `manage.py api_token`; the browser's session works too."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from cms.models import ApiToken
from tests.api.conftest import assert_error


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_given_no_credentials_when_calling_then_401_not_authenticated_asking_for_a_token(db):
    response = APIClient().get("/api/v1/codes/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token not-a-key", "Token", "Token a b"])
def test_given_a_wrong_token_header_when_calling_then_401_authentication_failed(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/codes/"), 401, "authentication_failed")


def test_given_the_management_command_when_run_then_it_prints_a_working_key_stored_only_as_a_hash(network):
    out = io.StringIO()
    call_command("api_token", network.provider_operator.username, "--name", "tracking server", stdout=out)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=network.provider_operator)
    assert token.name == "tracking server"
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    assert token.last_used_at is None

    assert token_client(key).get("/api/v1/codes/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_given_an_unknown_username_when_running_the_command_then_it_fails(db):
    with pytest.raises(CommandError):
        call_command("api_token", "nobody", stdout=io.StringIO())


def test_given_a_disabled_account_when_its_token_is_used_then_401(network, api_for):
    client = api_for(network.north_admin)
    network.north.is_active = False
    network.north.save()
    assert_error(client.get("/api/v1/codes/"), 401, "authentication_failed")


def test_given_a_deactivated_user_when_their_token_is_used_then_401(network, api_for):
    client = api_for(network.north_admin)
    network.north_admin.is_active = False
    network.north_admin.save()
    assert_error(client.get("/api/v1/units/"), 401, "authentication_failed")


def test_given_a_signed_in_browser_when_reading_the_api_then_the_session_is_enough(network, client):
    client.force_login(network.provider_viewer)
    assert client.get("/api/v1/accounts/").status_code == 200


def test_given_a_session_without_csrf_token_when_posting_then_403(network, acme_codes):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(network.provider_admin)
    response = client.post(f"/api/v1/codes/{acme_codes[0].text}/revoke/", {}, format="json")
    assert_error(response, 403, "permission_denied")
    acme_codes[0].refresh_from_db()
    assert acme_codes[0].revoked_at is None


# --- the profile page -------------------------------------------------------------------------


def test_given_the_profile_page_when_a_token_is_created_then_its_key_is_shown_once_and_works(network, client):
    client.force_login(network.north_admin)
    page = client.get(reverse("profile:detail"))
    assert page.status_code == 200
    assert b"You have no API tokens yet." in page.content

    created = client.post(reverse("profile:detail"), {"name": "shop"})
    assert created.status_code == 201
    key = created.context["new_key"]
    assert key.encode() in created.content
    assert created["Cache-Control"] == "no-store"

    again = client.get(reverse("profile:detail"))
    assert key.encode() not in again.content
    assert b"shop" in again.content and key[:8].encode() in again.content
    assert token_client(key).get("/api/v1/units/").status_code == 200


def test_given_a_blank_name_when_creating_a_token_then_the_form_says_so_and_nothing_is_created(network, client):
    client.force_login(network.north_admin)
    response = client.post(reverse("profile:detail"), {"name": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_given_a_token_when_deleted_from_the_profile_then_its_key_stops_working(network, client):
    client.force_login(network.north_admin)
    key = client.post(reverse("profile:detail"), {"name": "erp"}).context["new_key"]
    token = ApiToken.objects.get(user=network.north_admin)

    response = client.post(reverse("profile:token_delete", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert_error(token_client(key).get("/api/v1/units/"), 401, "authentication_failed")


def test_given_someone_elses_token_when_deleting_it_then_nothing_happens(network, client, api_for):
    api_for(network.south_admin)
    token = ApiToken.objects.get(user=network.south_admin)
    client.force_login(network.north_admin)
    client.post(reverse("profile:token_delete", args=[token.pk]))
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_given_an_anonymous_visitor_when_opening_the_profile_then_they_are_sent_to_sign_in(db, client):
    response = client.get(reverse("profile:detail"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_given_a_signed_in_browser_when_opening_api_lists_then_the_browsable_api_renders(network, client):
    client.force_login(network.provider_admin)
    for url in ("/api/v1/codes/", "/api/v1/units/", "/api/v1/events/", "/api/v1/batches/", "/api/v1/accounts/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")


def test_given_a_user_with_the_most_tokens_when_creating_one_more_then_the_page_refuses(network, client):
    from cms.authentication import MAX_TOKENS_PER_USER, api_token_create

    for n in range(MAX_TOKENS_PER_USER):
        api_token_create(user=network.north_admin, name=f"token {n}")
    client.force_login(network.north_admin)
    response = client.post(reverse("profile:detail"), {"name": "one too many"})
    assert response.status_code == 400
    assert "delete one first" in str(response.context["form"].errors)
    assert ApiToken.objects.filter(user=network.north_admin).count() == MAX_TOKENS_PER_USER


# --- the token cache (cms.authentication.token_entry) on writes -----------------------------------
# Every API call, writes included, finds its token in the cache when warm. A change to the token,
# its user or its account must still show in the very next call, and refuse it without a change.


def _redeem(client, code, unit):
    return client.post("/api/v1/redeem/", {"code": code.text, "unit": unit.hardware_id}, format="json")


def _delete_token(network):
    from cms.authentication import api_token_delete

    api_token_delete(user=network.harvest_user, token_id=ApiToken.objects.get(user=network.harvest_user).pk)


def _disable_user(network):
    from cms.services import user_disable

    user_disable(actor=network.north_admin, user=network.harvest_user)


def _disable_account(network):
    from cms.services import account_disable

    account_disable(actor=network.north_admin, account=network.harvest)


def _disable_a_reseller_above(network):
    from cms.services import account_disable

    account_disable(actor=network.provider_admin, account=network.north)  # Harvest Co is in its branch


def _disable_user_in_the_admin(network):
    network.harvest_user.is_active = False
    network.harvest_user.save()  # outside the services: the signal receivers cover it


def _make_viewer(network):
    from cms.services import user_update

    user_update(actor=network.north_admin, user=network.harvest_user, role="viewer")


@pytest.mark.parametrize(
    "change, status, code",
    [
        (_delete_token, 401, "authentication_failed"),
        (_disable_user, 401, "authentication_failed"),
        (_disable_account, 401, "authentication_failed"),
        (_disable_a_reseller_above, 401, "authentication_failed"),
        (_disable_user_in_the_admin, 401, "authentication_failed"),
        (_make_viewer, 403, "permission_denied"),
    ],
    ids=[
        "token deleted", "user disabled", "account disabled", "reseller above disabled", "user edited directly",
        "role now viewer",
    ],
)
def test_given_a_warm_token_when_its_token_user_or_account_changes_then_the_next_write_is_refused(
    network, api_for, acme_codes, harvest_unit, change, status, code
):
    from codes.models import Code

    client = api_for(network.harvest_user)
    assert _redeem(client, acme_codes[0], harvest_unit).status_code == 200  # the token's entry is cached now

    change(network)

    assert_error(_redeem(client, acme_codes[1], harvest_unit), status, code)
    assert Code.objects.get(pk=acme_codes[1].pk).unit_id is None


def test_given_a_warm_token_when_writing_then_the_user_is_the_tokens_with_its_account(network, api_for, acme_codes, harvest_unit):
    from audit.models import Action, Event

    client = api_for(network.harvest_user)
    for code in acme_codes[:2]:
        assert _redeem(client, code, harvest_unit).status_code == 200
    events = Event.objects.filter(action=Action.REDEEMED).order_by("pk")
    assert [(e.actor_id, e.actor_account_id) for e in events] == [(network.harvest_user.pk, network.harvest.pk)] * 2


def test_given_the_cache_is_unreachable_when_calling_then_the_database_authenticates(network, api_for, settings):
    client = api_for(network.north_admin)
    settings.CACHES = {
        **settings.CACHES,
        "lookups": {  # a Redis nobody listens to, as when the real one is down
            "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        },
    }
    assert client.get("/api/v1/units/").status_code == 200
    assert_error(token_client("0" * 40).get("/api/v1/units/"), 401, "authentication_failed")


@pytest.mark.redis
def test_given_redis_and_a_warm_token_when_it_is_deleted_then_the_next_write_is_refused(
    network, api_for, acme_codes, harvest_unit
):
    client = api_for(network.harvest_user)
    assert _redeem(client, acme_codes[0], harvest_unit).status_code == 200
    _delete_token(network)
    assert_error(_redeem(client, acme_codes[1], harvest_unit), 401, "authentication_failed")


def test_given_a_token_used_when_its_lookup_is_cached_then_it_holds_no_password_hash(transactional_db, network, api_for):
    import pickle

    from django.core.cache import caches

    from cms.authentication import _token_key

    _token, key = ApiToken.issue(user=network.north_admin, name="tracker")
    assert token_client(key).get("/api/v1/units/").status_code == 200

    entry = caches["lookups"].get(_token_key(ApiToken.hash_key(key)))
    assert entry["user"]["id"] == network.north_admin.pk and entry["token"]["id"] == _token.pk
    assert "password" not in entry["user"]
    assert network.north_admin.password.encode() not in pickle.dumps(entry)
