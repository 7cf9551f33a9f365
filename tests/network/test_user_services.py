"""Specifications of the user services: create, role, password, disable."""

import pytest
from django.urls import reverse

from cms.errors import DomainError, NotFound, PermissionDenied
from cms.models import User
from cms.services import user_create, user_disable, user_enable, user_set_password, user_update, users_set_active

GOOD = "blue-tractor-meadow-42"


def can_sign_in(client, username, password) -> bool:
    """Through the real sign-in page (django-axes needs the request)."""
    response = client.post(reverse("login"), {"username": username, "password": password})
    client.logout()
    return response.status_code == 302


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


class TestUserCreate:
    def test_given_an_admin_when_creating_a_user_below_then_it_can_sign_in(self, network, client):
        user = user_create(actor=network.north_admin, account=network.harvest, username="farmer", password=GOOD,
                           role="viewer", email="f@example.com")
        assert (user.account_id, user.role) == (network.harvest.pk, "viewer")
        assert can_sign_in(client, "farmer", GOOD)

    def test_given_a_weak_password_then_refused_and_no_user(self, network):
        with pytest.raises(DomainError) as refused:
            user_create(actor=network.north_admin, account=network.north, username="weak", password="123", role="viewer")
        assert refused.value.code == "weak_password"
        assert not User.objects.filter(username="weak").exists()

    def test_given_a_taken_username_then_refused(self, network):
        with pytest.raises(DomainError):
            user_create(actor=network.north_admin, account=network.north, username="ACME-ADMIN", password=GOOD,
                        role="viewer")

    def test_given_an_unknown_role_then_refused(self, network):
        with pytest.raises(DomainError):
            user_create(actor=network.north_admin, account=network.north, username="x", password=GOOD, role="owner")

    def test_given_an_operator_then_refused(self, network):
        with pytest.raises(PermissionDenied):
            user_create(actor=network.north_farms_operator, account=network.harvest, username="x", password=GOOD,
                        role="viewer")

    def test_given_an_account_above_or_beside_then_not_found(self, network):
        for account in (network.provider, network.south, network.rival):
            with pytest.raises(NotFound):
                user_create(actor=network.north_admin, account=account, username="x", password=GOOD, role="admin")
        assert not User.objects.filter(username="x").exists()


class TestUserUpdate:
    def test_given_an_admin_when_changing_a_role_below_then_saved(self, network):
        user_update(actor=network.north_admin, user=network.north_farms_operator, role="viewer")
        assert fresh(network.north_farms_operator).role == "viewer"

    def test_given_a_user_above_or_beside_then_not_found(self, network):
        for user in (network.provider_viewer, network.south_admin, network.rival_admin):
            with pytest.raises(NotFound):
                user_update(actor=network.north_admin, user=user, role="viewer")
        assert fresh(network.south_admin).role == "admin"

    def test_given_its_own_role_then_refused(self, network):
        with pytest.raises(DomainError):
            user_update(actor=network.north_admin, user=network.north_admin, role="viewer")

    def test_given_an_operator_then_refused(self, network):
        with pytest.raises(PermissionDenied):
            user_update(actor=network.provider_operator, user=network.provider_viewer, role="admin")


class TestUserPassword:
    def test_given_an_admin_when_setting_a_password_then_the_user_signs_in_with_it(self, network, client):
        user_set_password(actor=network.north_admin, user=network.harvest_user, password=GOOD)
        assert can_sign_in(client, "harvest-user", GOOD)

    def test_given_a_weak_password_then_refused_and_the_old_one_still_works(self, network, client):
        for weak in ("short", "harvest-user", "1234567890123", "password1234"):
            with pytest.raises(DomainError):
                user_set_password(actor=network.north_admin, user=network.harvest_user, password=weak)
        assert can_sign_in(client, "harvest-user", "correct-horse-battery")

    def test_given_a_user_of_another_provider_then_not_found(self, network):
        with pytest.raises(NotFound):
            user_set_password(actor=network.provider_admin, user=network.rival_admin, password=GOOD)


class TestUserDisable:
    def test_given_an_admin_when_disabling_a_user_then_it_cannot_sign_in_and_is_kept(self, network, client):
        user_disable(actor=network.north_admin, user=network.harvest_user)
        assert not can_sign_in(client, "harvest-user", "correct-horse-battery")
        assert User.objects.filter(pk=network.harvest_user.pk).exists()
        user_enable(actor=network.north_admin, user=network.harvest_user)
        assert can_sign_in(client, "harvest-user", "correct-horse-battery")

    def test_given_itself_then_refused(self, network):
        with pytest.raises(DomainError):
            user_disable(actor=network.north_admin, user=network.north_admin)

    def test_given_a_foreign_user_among_many_then_all_refused_and_nothing_changes(self, network):
        with pytest.raises(DomainError) as refused:
            users_set_active(actor=network.north_admin, users=[network.harvest_user, network.south_admin], active=False)
        assert refused.value.code == "bulk_refused"
        assert fresh(network.harvest_user).is_active and fresh(network.south_admin).is_active
