"""Input nobody means is answered with a clear refusal (400, or 404 for what cannot exist), never a
server error, and changes nothing: a page number no list has, a use-by date at the end of the
calendar, a damaged CSV confirmation, a NUL byte in an API address."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cms.errors import DomainError
from codes.models import Batch, Code
from codes.services import batch_generate, code_attach
from codes.use_by import local_today
from tests import factories
from tests.input.lists import list_patterns

HUGE = "9" * 20


@pytest.fixture
def client_of():
    def make(user):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    return make


# --- a page number no list has ------------------------------------------------------------------

PAGE_LISTS = [name for name, is_api, _view in list_patterns() if not is_api]


@pytest.mark.parametrize("name", PAGE_LISTS)
@pytest.mark.parametrize("page", [HUGE, "-1", "0", "abc", "2.5"])
def test_given_a_page_number_no_list_has_then_400_saying_so(network, client_of, name, page):
    response = client_of(network.provider_admin).get(reverse(name), {"page": page})
    assert response.status_code == 400
    assert "is not a page of this list" in response.content.decode()


@pytest.mark.parametrize("name", PAGE_LISTS)
def test_given_a_page_past_the_last_row_then_the_first_page(network, client_of, name):
    """A list that shrank since its link was made: the first page, as before."""
    assert client_of(network.provider_admin).get(reverse(name), {"page": "7"}).status_code == 200


# --- a use-by date at the end of the calendar ---------------------------------------------------

GENERATE = reverse("batches:generate")


def batch_form(**overrides):
    return {"quantity": 5, "period_days": 90, "unit_price": "1.00", "currency": "EUR", "use_by": "", "note": ""} | overrides


@pytest.mark.parametrize("quantity", [5, 30])  # in the request, and by the worker
def test_given_a_use_by_date_at_the_end_of_the_calendar_when_generating_then_400_and_no_batch(
    network, client_of, settings, quantity
):
    settings.KEYLINE_SYNC_BATCH_LIMIT = 10
    response = client_of(network.provider_admin).post(GENERATE, batch_form(quantity=quantity, use_by="9999-12-31"))
    assert response.status_code == 400
    assert "at most 3660 days ahead" in response.content.decode()
    assert not Batch.objects.exists()


def test_given_the_last_use_by_date_allowed_when_generating_then_the_batch_is_made(network, client_of):
    last = local_today(network.provider.time_zone, timezone.now()) + timedelta(days=3660)
    response = client_of(network.provider_admin).post(GENERATE, batch_form(use_by=last.isoformat()))
    assert response.status_code == 302
    assert Batch.objects.get().use_by == last and Code.objects.filter(use_by=last).count() == 5


def test_given_a_use_by_date_past_the_limit_through_the_api_then_400_naming_the_field(network, client_of):
    response = client_of(network.provider_admin).post(
        "/api/v1/batches/", batch_form(use_by="9999-12-31"), content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and [d["item"] for d in error["details"]] == ["use_by"]
    assert not Batch.objects.exists()


def test_given_a_use_by_date_past_the_limit_then_the_service_refuses_it(network):
    with pytest.raises(DomainError) as refused:
        batch_generate(actor=network.provider_admin, quantity=50, period_days=30, unit_price="1", currency="EUR",
                       use_by=date(9999, 12, 31), background=True)
    assert [r.item for r in refused.value.refusals] == ["use_by"]
    assert not Batch.objects.exists()


# --- a damaged CSV confirmation -----------------------------------------------------------------

ATTACH_CSV = reverse("units:attach_csv")


@pytest.mark.parametrize("line", ["abc", "", "-1", HUGE])
@pytest.mark.parametrize("refused", [False, True], ids=["would attach", "would be refused"])
def test_given_a_confirmation_with_a_line_that_is_no_line_number_then_400_and_nothing_attached(
    network, client_of, line, refused
):
    admin = network.provider_admin
    code = factories.codes(admin, quantity=1)[0]
    unit = factories.unit(network.harvest, actor=admin)
    if refused:  # the attach itself would be refused, and its refusal names the line
        code_attach(code=code, unit=factories.unit(network.harvest, actor=admin), actor=admin)
    before = Code.objects.get(pk=code.pk).unit_id
    response = client_of(admin).post(ATTACH_CSV, {"pair": [f"{unit.pk}:{code.pk}"], "line": [line], "_confirm": "1"})
    assert response.status_code == 400
    assert "upload the file again" in response.content.decode()
    assert Code.objects.get(pk=code.pk).unit_id == before
    assert not Code.objects.filter(unit=unit).exists()


def test_given_a_confirmation_with_one_line_per_pair_then_the_codes_are_attached(network, client_of):
    admin = network.provider_admin
    code = factories.codes(admin, quantity=1)[0]
    unit = factories.unit(network.harvest, actor=admin)
    response = client_of(admin).post(ATTACH_CSV, {"pair": [f"{unit.pk}:{code.pk}"], "line": ["3"], "_confirm": "1"})
    assert response.status_code == 302
    assert Code.objects.get(pk=code.pk).unit_id == unit.pk


# --- a NUL byte in an API address ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/units/%00/", "/api/v1/units/35%0012/", "/api/v1/units/35%0112/",
                                  "/api/v1/accounts/%00/", "/api/v1/batches/%00/", "/api/v1/events/%00/"])
def test_given_a_control_character_in_an_api_address_then_404_as_for_nothing_there(network, client_of, path):
    factories.unit(network.harvest, actor=network.provider_admin, hardware_id="3512")
    response = client_of(network.provider_admin).get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_given_a_nul_byte_in_a_codes_address_then_400_it_looks_mistyped(network, client_of):
    response = client_of(network.provider_admin).get("/api/v1/codes/%00/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_mistyped"
