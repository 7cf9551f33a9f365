"""A batch is the provider's own: its unit price (the provider's cost), currency and note, and
the Batches pages, are seen by the provider's users only. The accounts below (reseller,
sub-reseller, customer) see their codes, periods and use-by dates through every door: pages,
confirmation pages, exports and the API; a Batches page is refused them (403, the page is not
theirs), while another provider's batch stays not found (404) for a provider's users."""

import json

import pytest
from django.urls import reverse

from codes.services import batch_generate, code_attach, code_share
from tests import factories
from tests.ui.helpers import csv_rows, xlsx_rows

PRICE, CURRENCY, NOTE = "987.65", "XTS", "Wholesale deal with the factory"
SECRETS = (PRICE, "987,65", CURRENCY, NOTE)
BELOW = ["north_admin", "north_farms_operator", "harvest_user"]  # reseller, sub-reseller, customer


@pytest.fixture
def shipped(network):
    """A batch with a telling price, currency and note; one of its codes goes down to Harvest Co
    and runs on its tractor, another waits at Harvest unused: every account of that branch sees both."""
    admin = network.provider_admin
    batch = batch_generate(
        actor=admin, quantity=3, period_days=30, unit_price=PRICE, currency=CURRENCY, note=NOTE, background=False
    )
    running, waiting, kept = batch.codes.order_by("pk")
    for code in (running, waiting):
        code_share(code=code, to_account=network.harvest, actor=admin)
    tractor = factories.unit(network.harvest, admin, name="Tractor", hardware_id="356938035640001")
    code_attach(code=running, unit=tractor, actor=admin)
    return {"batch": batch, "running": running, "waiting": waiting, "kept": kept, "tractor": tractor}


def leaked(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]


def doors(shipped) -> dict[str, tuple[str, str]]:
    """Every GET that shows the batch's codes, or their unit, to those below the provider, and
    what each must show (so that it is the page that hides the price, not an empty one)."""
    running, waiting, tractor = shipped["running"], shipped["waiting"], shipped["tractor"]
    return {
        "codes window": (reverse("codes:list"), running.display_text),
        "codes window sorted by price": (reverse("codes:list") + "?sort=price", waiting.display_text),
        "code page": (reverse("codes:detail", args=[running.pk]), running.display_text),
        "unused code page": (reverse("codes:detail", args=[waiting.pk]), waiting.display_text),
        "units window": (reverse("units:list"), tractor.hardware_id),
        "unit page": (reverse("units:detail", args=[tractor.pk]), tractor.hardware_id),
        "dashboard": (reverse("dashboard"), "Dashboard"),
        "report": (reverse("report:list"), tractor.name),
        "API codes": ("/api/v1/codes/", running.display_text),
        "API code": (f"/api/v1/codes/{running.text}/", running.display_text),
        "API unit": (f"/api/v1/units/{tractor.hardware_id}/", tractor.hardware_id),
    }


@pytest.mark.parametrize("who", BELOW)
def test_given_a_user_below_the_provider_then_no_page_or_api_answer_shows_the_price_or_the_note(
    client, network, shipped, who
):
    client.force_login(getattr(network, who))
    for door, (url, shown) in doors(shipped).items():
        response = client.get(url)
        assert response.status_code == 200, (door, response.status_code)
        body = response.content.decode()
        assert shown in body, door
        assert not leaked(body), (door, leaked(body))


@pytest.mark.parametrize("who", BELOW)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_given_a_user_below_the_provider_then_the_codes_export_has_no_price_column(client, network, shipped, who, kind):
    client.force_login(getattr(network, who))
    response = client.get(reverse("codes:list"), {"export": kind})
    rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
    assert {row["Code"] for row in rows} == {shipped["running"].display_text, shipped["waiting"].display_text}
    assert not {"Price", "Currency"} & set(rows[0])
    assert {str(row["Batch"]) for row in rows} == {str(shipped["batch"].pk)}
    assert not leaked(" ".join(str(value) for row in rows for value in row.values()))


@pytest.mark.parametrize("who", BELOW)
def test_given_a_user_below_the_provider_then_the_confirmation_page_has_no_price_either(client, network, shipped, who):
    client.force_login(getattr(network, who))
    response = client.post(reverse("codes:bulk_release"), {"pk": [shipped["running"].pk]})
    assert response.status_code == 200
    body = response.content.decode()
    assert shipped["running"].display_text in body
    assert not leaked(body)


@pytest.mark.parametrize("who", BELOW)
def test_given_a_user_below_the_provider_then_a_code_names_its_batch_by_number_without_a_link(
    client, network, shipped, who
):
    client.force_login(getattr(network, who))
    for url in (reverse("codes:list"), reverse("codes:detail", args=[shipped["running"].pk])):
        body = client.get(url).content.decode()
        assert f"#{shipped['batch'].pk}" in body
        assert reverse("batches:detail", args=[shipped["batch"].pk]) not in body
    options = client.get(reverse("codes:list")).context["filter"].form.fields["batch"].choices
    assert list(options)[1:] == [(shipped["batch"].pk, f"#{shipped['batch'].pk} · 30 d")]  # not its size


@pytest.mark.parametrize("who", BELOW)
def test_given_a_user_below_the_provider_then_every_batches_page_is_refused_and_its_menu_has_none(
    client, network, shipped, who
):
    client.force_login(getattr(network, who))
    pk = shipped["batch"].pk
    urls = [reverse("batches:list"), reverse("batches:generate"), reverse("batches:list") + "?export=csv",
            *(reverse(f"batches:{name}", args=[pk]) for name in ("detail", "progress", "download")),
            *(reverse(f"batches:{name}", args=[987654321]) for name in ("detail", "progress", "download"))]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code)
        assert "403.html" in [t.name for t in response.templates]
        assert not leaked(response.content.decode())
    nav = client.get(reverse("dashboard")).content.decode().split("</nav>")[0]
    assert reverse("batches:list") not in nav


@pytest.mark.parametrize("who", BELOW)
def test_given_a_user_below_the_provider_then_the_batches_api_is_refused(client, network, shipped, who):
    client.force_login(getattr(network, who))
    for url in ("/api/v1/batches/", f"/api/v1/batches/{shipped['batch'].pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert json.loads(response.content)["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("who", ["provider_admin", "provider_operator", "provider_viewer"])
def test_given_a_providers_user_then_the_price_the_note_and_the_batch_pages_are_there(client, network, shipped, who):
    client.force_login(getattr(network, who))
    batch = shipped["batch"]
    window = client.get(reverse("codes:list")).content.decode()
    assert PRICE in window and CURRENCY in window
    assert reverse("batches:detail", args=[batch.pk]) in window
    code_page = client.get(reverse("codes:detail", args=[shipped["kept"].pk])).content.decode()
    assert PRICE in code_page and NOTE in code_page
    exported = csv_rows(client.get(reverse("codes:list"), {"export": "csv"}))
    assert {(row["Price"], row["Currency"]) for row in exported} == {(PRICE, CURRENCY)}
    assert client.get(reverse("batches:list")).status_code == 200
    detail = client.get(reverse("batches:detail", args=[batch.pk])).content.decode()
    assert NOTE in detail and PRICE in detail
    assert reverse("batches:list") in client.get(reverse("dashboard")).content.decode().split("</nav>")[0]
