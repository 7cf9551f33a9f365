"""A name, a note or a hardware id is one line of visible characters; a notice's text may also
hold line breaks and tabs. A control character (a vertical tab pasted from a spreadsheet) is
refused with a clear message by the page's form, by the API and by the service behind both, and
nothing changes. The form and the service ask one validator (`cms.validators`), so they agree on
every text."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from audit.models import Event
from cms.account_forms import AccountEditForm
from cms.authentication import api_token_create
from cms.errors import DomainError
from cms.models import Account, ApiToken, User
from cms.services import account_create, account_update, user_create, user_update
from codes.models import Batch, ExpiryNotice
from codes.services import batch_generate, notice_create
from tests import factories
from tests.conftest import examples
from units.models import Unit
from units.services import unit_create, unit_update

ONE_LINE_MESSAGE = "Control characters (tabs, line breaks, invisible characters pasted from another program)"
LINES_MESSAGE = "Control characters other than line breaks and tabs"
PASTED = ["North\x0bFarms", "North\x00Farms", "North\x1bFarms", "North\tFarms", "Two\nlines", "North\x85Farms"]


@pytest.fixture
def admin_client(network):
    client = Client()
    client.force_login(network.provider_admin)
    return client


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PASTED)
def test_given_a_control_character_when_renaming_an_account_on_its_page_then_400_saying_why(
    network, admin_client, name
):
    response = admin_client.post(reverse("accounts:edit", args=[network.north.pk]), {"name": name, "time_zone": "UTC"})
    assert response.status_code == 400
    assert ONE_LINE_MESSAGE in response.content.decode()
    assert Account.objects.get(pk=network.north.pk).name == "North Sales"


def test_given_a_control_character_when_creating_an_account_or_a_user_then_400_and_nothing_made(network, admin_client):
    response = admin_client.post(reverse("accounts:create"), {
        "parent": network.north.pk, "kind": "customer", "name": "Farm\x0bCo", "time_zone": ""})
    assert response.status_code == 400 and ONE_LINE_MESSAGE in response.content.decode()
    response = admin_client.post(reverse("accounts:user_create"), {
        "account": network.north.pk, "username": "farmer", "role": "viewer", "first_name": "J\x0bo",
        "password1": "blue-tractor-meadow-42", "password2": "blue-tractor-meadow-42"})
    assert response.status_code == 400 and ONE_LINE_MESSAGE in response.content.decode()
    assert not Account.objects.filter(name__startswith="Farm").exists()
    assert not User.objects.filter(username="farmer").exists()


def test_given_a_control_character_when_changing_a_users_details_then_400_and_nothing_changes(network, admin_client):
    response = admin_client.post(reverse("accounts:user_edit", args=[network.north_admin.pk]), {
        "role": "admin", "email": "", "first_name": "Ann", "last_name": "Lee\x07"})
    assert response.status_code == 400 and ONE_LINE_MESSAGE in response.content.decode()
    assert User.objects.get(pk=network.north_admin.pk).last_name == ""


def test_given_a_control_character_in_a_notice_then_refused_but_its_text_keeps_its_line_breaks(network):
    client = Client()
    client.force_login(network.provider_operator)
    url = reverse("notices:create")
    form = {"name": "Renewals", "text": "Renew soon.\r\n\tThank you.", "days_before": 14, "show_repeatedly": "on"}
    for field, value, message in (("name", "Re\x0bnewals", ONE_LINE_MESSAGE), ("text", "Renew\x0b soon.", LINES_MESSAGE)):
        response = client.post(url, {**form, field: value})
        assert response.status_code == 400 and message in response.content.decode()
    assert not ExpiryNotice.objects.exists()
    assert client.post(url, form).status_code == 302
    assert ExpiryNotice.objects.get().text == "Renew soon.\r\n\tThank you."


def test_given_a_control_character_in_a_batch_note_then_400_and_no_batch(network, admin_client):
    response = admin_client.post(reverse("batches:generate"), {
        "quantity": 5, "period_days": 30, "unit_price": "1.00", "currency": "EUR", "use_by": "", "note": "Spr\x0bing"})
    assert response.status_code == 400 and ONE_LINE_MESSAGE in response.content.decode()
    assert not Batch.objects.exists()


def test_given_a_control_character_in_a_token_name_then_400_and_no_token(network, admin_client):
    response = admin_client.post(reverse("profile:detail"), {"name": "sh\x0bop"})
    assert response.status_code == 400 and ONE_LINE_MESSAGE in response.content.decode()
    assert not ApiToken.objects.exists()


# --- the API ----------------------------------------------------------------------------------


def test_given_a_control_character_in_a_batch_note_through_the_api_then_400_naming_the_field(network, admin_client):
    response = admin_client.post("/api/v1/batches/", {
        "quantity": 5, "period_days": 30, "unit_price": "1.00", "currency": "EUR", "note": "Spr\x0bing"},
        content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and [d["item"] for d in error["details"]] == ["note"]
    assert ONE_LINE_MESSAGE in error["details"][0]["reason"]
    assert not Batch.objects.exists()


# --- the services -----------------------------------------------------------------------------


def refused(call) -> str:
    events = Event.objects.count()
    with pytest.raises(DomainError) as error:
        call()
    assert Event.objects.count() == events
    return error.value.message


def test_given_a_control_character_then_every_service_that_keeps_a_typed_text_refuses_it(network):
    admin, north = network.provider_admin, network.north
    unit = factories.unit(network.harvest, actor=admin)
    calls = {
        "Name": lambda: account_update(actor=admin, account=north, name="North\x0bSales", time_zone="UTC"),
        "Name ": lambda: account_create(actor=admin, parent=north, name="Farm\x0bCo", kind="customer"),
        "Username": lambda: user_create(actor=admin, account=north, username="j\x0bo", password=None, role="viewer"),
        "First name": lambda: user_update(actor=admin, user=network.north_admin, role="admin", first_name="\x07Jo"),
        "E-mail": lambda: user_update(actor=admin, user=network.north_admin, role="admin", email='"\x0b"@example.com'),
        "Name  ": lambda: api_token_create(user=admin, name="sh\x0bop"),
        "Name   ": lambda: unit_create(actor=admin, owner=network.harvest, name="Trac\x0btor", hardware_id="3599"),
        "Hardware id": lambda: unit_create(actor=admin, owner=network.harvest, name="Tractor", hardware_id="35\x0199"),
        "Device type": lambda: unit_update(actor=admin, unit=unit, name="Tractor", device_type="GT\x0b06"),
        "Name    ": lambda: notice_create(actor=admin, name="Re\x0bnew", text="Soon", days_before=7),
        "Text": lambda: notice_create(actor=admin, name="Renew", text="So\x0bon", days_before=7),
    }
    for label, call in calls.items():
        message = refused(call)
        assert message.startswith(f"{label.strip()}: Control characters"), message
    assert Account.objects.get(pk=north.pk).name == "North Sales"
    assert not Unit.objects.filter(hardware_id="3599").exists() and not ExpiryNotice.objects.exists()
    with pytest.raises(DomainError) as error:
        batch_generate(actor=admin, quantity=5, period_days=30, unit_price="1", currency="EUR", note="Spr\x0bing",
                       use_by=date(9999, 12, 31))
    assert {r.item for r in error.value.refusals} == {"note", "use_by"}


class TestTheFormAndTheServiceAgree(TestCase):
    """For any text, the account page's form accepts a name exactly when the service does."""

    @classmethod
    def setUpTestData(cls):
        cls.provider = factories.provider("Acme Telematics")
        cls.admin = factories.user(cls.provider, "admin", "acme-admin")

    @settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow])
    # Lone surrogates cannot come through HTTP: a request is decoded from UTF-8.
    @given(st.text(st.one_of(st.sampled_from("\x00\x07\x0b\t\n\r\x1b\x7f\x85\xa0 =-a"), st.characters(exclude_categories=["Cs"])), max_size=200))
    def test_given_any_name_then_the_form_and_account_update_decide_alike(self, name):
        form_accepts = AccountEditForm({"name": name, "time_zone": "UTC"}).is_valid()
        try:
            account_update(actor=self.admin, account=self.provider, name=name, time_zone="UTC")
        except DomainError:
            service_accepts = False
        else:
            service_accepts = True
        assert form_accepts == service_accepts, repr(name)
