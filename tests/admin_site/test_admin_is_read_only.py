"""The Django admin reads the domain and never changes it: accounts, users, tokens, units, codes,
batches, notices and audit entries change only through the product's pages and services, which
check the rules and write the audit log. Asserted through the real admin, as a superuser."""

from dataclasses import dataclass

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from audit.models import Event
from cms.models import Account, ApiToken, User
from codes.models import Batch, Code, ExpiryNotice
from codes.services import notice_create
from tests import factories
from units.models import Unit


@dataclass
class Case:
    model: type
    instance: object
    # A plausible edit of the change form: what the admin would have saved.
    edit: dict


@pytest.fixture
def superuser_client(client, db):
    superuser = User.objects.create_superuser(username="platform", email="platform@example.invalid",
                                              password=factories.PASSWORD)
    client.force_login(superuser)
    return client


@pytest.fixture
def cases(network) -> dict[str, Case]:
    codes = factories.codes(network.provider_admin, quantity=1)
    unit = factories.unit(network.harvest, actor=network.provider_admin, name="Harvest Truck")
    token, _key = ApiToken.issue(user=network.harvest_user, name="tracking server")
    notice = notice_create(actor=network.provider_admin, name="Week", text="Renew", days_before=7)
    return {
        "account": Case(Account, network.harvest, {"name": "Renamed", "time_zone": "Asia/Tokyo", "kind": "customer"}),
        "user": Case(User, network.harvest_user, {"username": "harvest-user", "role": "admin",
                                                  "account": network.rival.pk}),
        "api token": Case(ApiToken, token, {"name": "renamed", "user": network.provider_admin.pk}),
        "unit": Case(Unit, unit, {"name": "Moved", "hardware_id": "35 0000 0000 0999", "owner": network.rival_customer.pk,
                                  "provider": network.rival.pk, "device_type": ""}),
        "code": Case(Code, codes[0], {"holder": network.rival.pk, "status": "revoked"}),
        "batch": Case(Batch, codes[0].batch, {"quantity": 9, "note": "edited"}),
        "notice": Case(ExpiryNotice, notice, {"name": "Edited", "text": "x", "days_before": 3,
                                              "account": network.rival.pk}),
        "audit event": Case(Event, Event.objects.filter(code=codes[0]).first(), {"action": "revoked"}),
    }


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def stored(case: Case) -> dict:
    return model_to_dict(case.model._base_manager.get(pk=case.instance.pk))


NAMES = ["account", "user", "api token", "unit", "code", "batch", "notice", "audit event"]


@pytest.mark.parametrize("name", NAMES)
def test_given_a_superuser_then_the_list_and_the_entry_read_without_a_delete_or_add_button(superuser_client, cases, name):
    case = cases[name]

    listing = superuser_client.get(admin_url(case.model, "changelist"))
    page = superuser_client.get(admin_url(case.model, "change", case.instance.pk))

    assert listing.status_code == 200 and page.status_code == 200
    assert admin_url(case.model, "add") not in listing.content.decode()
    actions = listing.context["action_form"].fields["action"].choices if listing.context.get("action_form") else []
    assert "delete_selected" not in [value for value, _label in actions]
    assert admin_url(case.model, "delete", case.instance.pk) not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


@pytest.mark.parametrize("name", NAMES)
def test_given_a_superuser_when_posting_the_change_form_then_403_and_nothing_changes(superuser_client, cases, name):
    case = cases[name]
    before = stored(case)

    response = superuser_client.post(admin_url(case.model, "change", case.instance.pk), case.edit)

    assert response.status_code == 403
    assert stored(case) == before


@pytest.mark.parametrize("name", NAMES)
def test_given_a_superuser_when_deleting_or_adding_then_403_and_nothing_changes(superuser_client, cases, name):
    case = cases[name]
    count = case.model._base_manager.count()

    assert superuser_client.get(admin_url(case.model, "delete", case.instance.pk)).status_code == 403
    assert superuser_client.post(admin_url(case.model, "delete", case.instance.pk), {"post": "yes"}).status_code == 403
    superuser_client.post(admin_url(case.model, "changelist"),
                          {"action": "delete_selected", "_selected_action": [case.instance.pk], "post": "yes"})
    assert superuser_client.get(admin_url(case.model, "add")).status_code == 403
    assert superuser_client.post(admin_url(case.model, "add"), case.edit).status_code == 403

    assert case.model._base_manager.filter(pk=case.instance.pk).exists()
    assert case.model._base_manager.count() == count


def test_given_a_superuser_when_setting_a_users_password_in_the_admin_then_403(superuser_client, network):
    url = reverse("admin:auth_user_password_change", args=[network.harvest_user.pk])
    password = "blue-tractor-meadow-42"

    assert superuser_client.get(url).status_code == 403
    assert superuser_client.post(url, {"password1": password, "password2": password}).status_code == 403
    assert not User.objects.get(pk=network.harvest_user.pk).check_password(password)


def test_given_a_superuser_when_opening_the_admins_own_password_form_then_led_to_the_profile_page(superuser_client):
    response = superuser_client.get(reverse("admin:password_change"))

    assert response.status_code == 302 and response["Location"] == reverse("profile:password")


def test_given_a_superuser_then_no_user_page_of_the_admin_shows_the_password_hash(superuser_client, network):
    page = superuser_client.get(admin_url(User, "change", network.harvest_user.pk)).content.decode()

    assert "harvest-user" in page
    assert network.harvest_user.password.split("$")[-1] not in page and "md5" not in page.lower()
