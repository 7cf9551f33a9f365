"""A user changes its own password on the profile page, proving it knows the current one; the API
tokens go with the old password, and the change is audited. The admin site's own password form
leads there, so no password is set past the service."""

from django.urls import reverse

from audit.models import Action
from cms.authentication import api_token_create
from cms.models import ApiToken, User
from tests import factories
from tests.domain.support import last_event_id, new_events
from tests.factories import PASSWORD

URL = reverse("profile:password")
NEW = "blue-tractor-meadow-42"


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(URL, {"old_password": old, "password1": new, "password2": again or new})


def test_given_the_current_password_when_changing_it_then_set_tokens_revoked_and_the_session_kept(network, client):
    token, key = api_token_create(user=network.harvest_user, name="tracking server")
    client.force_login(network.harvest_user)
    since = last_event_id()

    response = change(client)

    assert response.status_code == 302 and response["Location"] == reverse("profile:detail")
    assert User.objects.get(pk=network.harvest_user.pk).check_password(NEW)
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert [(e.action, e.actor_id, e.account_id) for e in new_events(since)] == [
        (Action.USER_PASSWORD_SET, network.harvest_user.pk, network.harvest.pk),
        (Action.TOKEN_REVOKED, network.harvest_user.pk, network.harvest.pk),
    ]
    assert all(NEW not in str(e.details) and key not in str(e.details) for e in new_events(since))
    assert client.get(reverse("profile:detail")).status_code == 200  # still signed in


def test_given_a_wrong_current_password_then_the_form_says_so_and_nothing_changes(network, client):
    api_token_create(user=network.harvest_user, name="tracking server")
    client.force_login(network.harvest_user)
    since = last_event_id()

    response = change(client, old="not-my-password")

    assert response.status_code == 400 and "current password" in response.content.decode()
    assert User.objects.get(pk=network.harvest_user.pk).check_password(PASSWORD)
    assert ApiToken.objects.filter(user=network.harvest_user).exists()
    assert not new_events(since).exists()


def test_given_a_weak_or_mistyped_new_password_then_refused_and_nothing_changes(network, client):
    client.force_login(network.harvest_user)
    since = last_event_id()

    weak = change(client, new="12345")
    mistyped = change(client, new=NEW, again=NEW + "x")

    assert weak.status_code == mistyped.status_code == 400
    assert "too short" in weak.content.decode() and "differ" in mistyped.content.decode()
    assert User.objects.get(pk=network.harvest_user.pk).check_password(PASSWORD)
    assert not new_events(since).exists()


def test_the_profile_page_offers_the_form_and_a_get_of_its_address_leads_back_to_it(network, client):
    client.force_login(network.provider_viewer)

    page = client.get(reverse("profile:detail")).content.decode()

    assert f'action="{URL}"' in page and 'name="old_password"' in page
    assert client.get(URL)["Location"] == reverse("profile:detail")


def test_given_the_admin_sites_own_password_form_then_it_leads_to_the_profile_page(client, db):
    platform = User.objects.create_superuser(username="platform", email="p@example.invalid", password=PASSWORD)
    client.force_login(platform)

    response = client.get(reverse("admin:password_change"), follow=True)

    assert response.redirect_chain[0] == (URL, 302)
    assert response.status_code == 200 and 'name="old_password"' in response.content.decode()
    assert change(client).status_code == 302
    assert User.objects.get(pk=platform.pk).check_password(NEW)


def test_given_a_signed_out_visitor_then_sent_to_sign_in(client, db):
    factories.provider()

    response = change(client)

    assert response.status_code == 302 and reverse("login") in response["Location"]
