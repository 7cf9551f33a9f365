"""The OpenAPI description: checked in, served, and true to the code."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from tests import factories
from tests.ui.helpers import row_pks

CHECKED_IN = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_given_the_code_when_the_schema_is_generated_then_it_is_the_checked_in_file(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == CHECKED_IN.read_text(), (
        "docs/openapi.yaml has drifted from the code: run "
        "`.venv/bin/python manage.py spectacular --file docs/openapi.yaml` and commit it"
    )


def test_given_anyone_when_fetching_the_schema_then_it_is_served_as_openapi_3(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/units/{hardware_id}/" in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_given_the_docs_pages_when_opened_then_every_asset_is_self_hosted(client, db):
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url).content.decode()
        assert "drf_spectacular_sidecar" in page, url
        for marker in ("cdn.", "unpkg.com", "jsdelivr", "https://"):
            assert marker not in page, (url, marker)


def test_given_the_schema_was_described_then_each_user_still_gets_its_own_filter_choices(
    client, api_for, network
):
    # Describing the API builds the form fields of the FilterSets' class-level filters; a list
    # of choices or accounts built there must not stand in for the one each request reads.
    assert client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
    batch = factories.batch(network.provider_admin, quantity=2, period_days=90)

    client.force_login(network.provider_admin)
    provider_page = client.get("/codes/", {"batch": batch.pk})
    assert provider_page.status_code == 200
    assert len(row_pks(provider_page)) == 2
    assert "90 days" in provider_page.content.decode()

    api = api_for(network.provider_admin).get("/api/v1/codes/", {"batch": batch.pk})
    assert api.status_code == 200 and len(api.json()["results"]) == 2

    client.force_login(network.south_admin)
    south_page = client.get("/codes/").content.decode()
    assert "South Rentals" in south_page and "North Sales" not in south_page
    south_units = client.get("/units/").content.decode()
    assert "South Rentals" in south_units and "North Sales" not in south_units
