"""In Chromium: a user creates a personal token on the profile page, sees its key once, and the
key works; the API docs (Swagger UI and Redoc) render from Keyline's own static files."""

import os
import re
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from tests import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The documentation's screenshots are refreshed on request (KEYLINE_SCREENSHOTS=1).
DOCS_SCREENSHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"


def sign_in(page, live_server, user) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_the_profile_page_when_a_token_is_created_then_its_key_is_shown_once_and_works(
    network, live_server, page, tmp_path
):
    shots = DOCS_SCREENSHOTS if os.environ.get("KEYLINE_SCREENSHOTS") == "1" else tmp_path
    sign_in(page, live_server, network.north_admin)
    page.get_by_role("link", name="north-admin").click()
    page.wait_for_url(re.compile(r".*/profile/$"))

    page.get_by_label("New token").fill("tracking server")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#new-key").input_value()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    page.screenshot(path=str(shots / "api-token.png"), full_page=True)

    answer = requests.get(
        f"{live_server.url}/api/v1/units/", headers={"Authorization": f"Token {key}"}, timeout=10
    )
    assert answer.status_code == 200 and "results" in answer.json()

    page.goto(f"{live_server.url}/profile/")
    assert page.locator("#new-key").count() == 0
    assert key not in page.content()
    assert page.get_by_test_id("tokens").get_by_text("tracking server").is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_given_the_api_docs_when_opened_offline_then_they_render_from_local_assets(db, live_server, page, tmp_path):
    shots = DOCS_SCREENSHOTS if os.environ.get("KEYLINE_SCREENSHOTS") == "1" else tmp_path
    outside = []
    local = (live_server.url, "blob:", "data:")
    blocked = []  # attempts the page's content security policy stopped before any network access
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(local) else None)
    page.on("requestfailed", lambda r: blocked.append(r.url) if "csp" in (r.failure or "").lower() else None)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("/api/v1/units/{hardware_id}/").first.wait_for()
    page.screenshot(path=str(shots / "api-docs.png"))

    page.goto(f"{live_server.url}/api/redoc/")
    page.locator("h1", has_text="Keyline API").first.wait_for()
    page.wait_for_timeout(500)
    assert [url for url in outside if url not in blocked] == [], f"assets loaded from elsewhere: {outside}"
