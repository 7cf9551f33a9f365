"""Inviting a user by e-mail: the user chooses its own first password through a link that
works once."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from cms.errors import DomainError, NotFound, PermissionDenied
from cms.models import User
from cms.services import account_disable, user_invite

GOOD = "blue-tractor-meadow-42"


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture
def invited(network, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = user_invite(actor=network.north_admin, account=network.harvest, username="new-farmer",
                           email="farmer@example.com", role="operator")
    return user


def test_given_an_invitation_then_a_mail_with_a_link_goes_out_and_the_user_has_no_password_yet(invited, client):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["farmer@example.com"] and "Harvest Co" in message.subject
    assert "new-farmer" in message.body and "north-admin" in message.body
    assert not User.objects.get(pk=invited.pk).has_usable_password()
    assert sign_in(client, "new-farmer", "").status_code == 200


def test_given_the_link_when_a_valid_password_is_chosen_then_the_user_signs_in_and_the_link_dies(invited, client):
    url = path_of(link_in(mail.outbox[0]))
    form_page = client.get(url, follow=True)
    assert form_page.status_code == 200 and 'name="new_password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else url
    response = client.post(set_url, {"new_password1": GOOD, "new_password2": GOOD})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert sign_in(client, "new-farmer", GOOD).status_code == 302
    client.logout()
    again = client.get(url, follow=True).content.decode()
    assert 'data-testid="invitation-invalid"' in again


def test_given_a_weak_password_then_refused(invited, client):
    url = path_of(link_in(mail.outbox[0]))
    set_url = client.get(url, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert not User.objects.get(pk=invited.pk).has_usable_password()


def test_given_a_guessed_token_then_the_link_is_not_valid(invited, client):
    url = path_of(link_in(mail.outbox[0]))
    guessed = url.rsplit("/", 2)[0] + "/cxxxxx-0123456789abcdef/"
    assert 'data-testid="invitation-invalid"' in client.get(guessed, follow=True).content.decode()


def test_given_a_disabled_account_then_the_link_is_not_valid(invited, network, client):
    account_disable(actor=network.north_admin, account=network.harvest)
    url = path_of(link_in(mail.outbox[0]))
    assert 'data-testid="invitation-invalid"' in client.get(url, follow=True).content.decode()


def test_given_no_email_or_an_operator_or_a_foreign_account_then_refused(network):
    with pytest.raises(DomainError):
        user_invite(actor=network.north_admin, account=network.harvest, username="x", email="", role="viewer")
    with pytest.raises(PermissionDenied):
        user_invite(actor=network.north_farms_operator, account=network.harvest, username="x", email="x@example.com",
                    role="viewer")
    with pytest.raises(NotFound):
        user_invite(actor=network.north_admin, account=network.south, username="x", email="x@example.com",
                    role="viewer")
    assert not User.objects.filter(username="x").exists()
    assert not mail.outbox


def test_the_new_user_page_invites_when_asked(network, client, django_capture_on_commit_callbacks):
    client.force_login(network.north_admin)
    data = {"account": network.harvest.pk, "username": "picker", "role": "viewer", "email": "picker@example.com",
            "first_name": "", "last_name": "", "invite": "on", "password1": "", "password2": ""}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("accounts:user_create"), data).status_code == 302
    assert mail.outbox[0].to == ["picker@example.com"]
    data.update(username="nopass", invite="", email="")
    response = client.post(reverse("accounts:user_create"), data)
    assert response.status_code == 400 and not User.objects.filter(username="nopass").exists()
