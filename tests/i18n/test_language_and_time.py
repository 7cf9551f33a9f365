"""Language and time: the language switch changes the page text; times show in the account's
time zone; the French and Spanish catalogues are complete."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from codes.services import code_share
from tests import factories

LOCALE = Path(settings.BASE_DIR) / "locale"


def switch_language(client, code):
    response = client.post(reverse("set_language"), {"language": code, "next": reverse("dashboard")})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("code", "dashboard", "sign_out", "report"),
    [("fr", "Tableau de bord", "Se déconnecter", "Rapport"), ("es", "Panel", "Cerrar sesión", "Informe")],
)
def test_given_a_signed_in_user_when_switching_language_then_the_page_text_changes(
    client, network, code, dashboard, sign_out, report
):
    client.force_login(network.provider_admin)
    english = client.get(reverse("dashboard")).content.decode()
    assert "Dashboard" in english and "Sign out" in english

    switch_language(client, code)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'<html lang="{code}">' in page
    assert dashboard in page and sign_out in page and report in page
    assert "Sign out" not in page

    switch_language(client, "en")
    assert "Sign out" in client.get(reverse("dashboard")).content.decode()


def test_given_french_when_opening_the_report_then_its_headers_and_actions_are_french(client, network):
    factories.codes(network.provider_admin, quantity=1)
    client.force_login(network.provider_admin)
    switch_language(client, "fr")
    page = client.get(reverse("report:list")).content.decode()
    assert "Rapport des codes d’activation" in page
    assert "Généré" in page  # the action of today's batch


def test_given_french_then_english_when_opening_the_codes_window_then_each_row_speaks_the_page_language(client, network):
    # The rows' repeated words are translated once per page: the next page, in another
    # language, must not reuse them.
    factories.codes(network.provider_admin, quantity=2, period_days=30)
    client.force_login(network.provider_admin)
    for code, available, select_row, day in [
        ("fr", "Disponible", "Sélectionner la ligne", "30&nbsp;j"),
        ("en", "Available", "Select row", "30&nbsp;d"),
        ("fr", "Disponible", "Sélectionner la ligne", "30&nbsp;j"),
    ]:
        switch_language(client, code)
        page = client.get(reverse("codes:list")).content.decode()
        assert page.count(f'data-state="available">{available}</span>') == 2
        assert page.count(f'aria-label="{select_row}"') == 2
        assert page.count(f">{day}<") == 2


@pytest.fixture
def share_at_15_utc(network):
    with time_machine.travel(datetime(2027, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    return code


def report_times(client, user):
    client.force_login(user)
    response = client.get(reverse("report:list"), {"occurred_after": "", "occurred_before": "", "action": "shared"})
    return re.findall(r"2027-03-01 (\d\d:\d\d)", response.content.decode())


def test_given_an_account_in_new_york_when_reading_the_report_then_times_are_in_new_york_time(
    client, network, share_at_15_utc
):
    assert report_times(client, network.north_admin) == ["15:00"]  # North Sales runs on UTC
    network.north.time_zone = "America/New_York"
    network.north.save()
    assert report_times(client, network.north_admin) == ["10:00"]  # 15:00 UTC is 10:00 EST


def test_given_an_account_in_new_york_when_exporting_then_times_are_in_new_york_time(client, network, share_at_15_utc):
    network.north.time_zone = "America/New_York"
    network.north.save()
    client.force_login(network.north_admin)
    response = client.get(reverse("report:list"), {"occurred_after": "", "occurred_before": "", "export": "csv"})
    content = b"".join(response.streaming_content).decode()
    assert "Time (America/New_York)" in content
    assert "2027-03-01 10:00:00" in content and "15:00:00" not in content


def test_given_an_account_in_new_york_when_opening_the_report_then_today_is_new_yorks_today(client, network):
    with time_machine.travel(datetime(2027, 2, 28, 23, 0, tzinfo=UTC), tick=False):
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.north, actor=network.provider_admin)
    with time_machine.travel(datetime(2027, 3, 1, 3, 0, tzinfo=UTC), tick=False):
        # In UTC it is 1 March: the share of 28 February is yesterday.
        client.force_login(network.north_admin)
        assert list(client.get(reverse("report:list")).context["table"].data) == []
        # In New York it is still 28 February, 22:00: the share (18:00) is today.
        network.north.time_zone = "America/New_York"
        network.north.save()
        rows = list(client.get(reverse("report:list")).context["table"].data)
        assert [e.code_id for e in rows] == [code.pk]


# --- the catalogues -------------------------------------------------------------------------


def untranslated(po: Path) -> list[str]:
    """msgids of a catalogue with an empty translation, a fuzzy flag, or fewer plural forms than
    the catalogue's Plural-Forms header asks for (the header excepted)."""
    missing = []
    text = po.read_text(encoding="utf-8")
    nplurals = int(re.search(r"nplurals=(\d+)", text).group(1))
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().split("\n") if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        msgid = "".join(re.findall(r'^(?:msgid )?"(.*)"$', "\n".join(
            line for line in lines if not line.startswith(("msgstr", "msgid_plural", "#", "msgctxt"))
        ), flags=re.M))
        if not msgid:
            continue  # the header
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        translations, current = [], None
        for line in lines:
            if line.startswith("msgstr"):
                current = len(translations)
                translations.append(re.match(r'^msgstr(?:\[\d+\])? "(.*)"$', line).group(1))
            elif line.startswith('"') and current is not None:
                translations[current] += line[1:-1]
            elif not line.startswith('"'):
                current = None
        plural = any(line.startswith("msgid_plural") for line in lines)
        if fuzzy or not translations or not all(translations) or (plural and len(translations) != nplurals):
            missing.append(msgid)
    return missing


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_string_of_the_catalogue_is_translated_in_every_plural_form(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert po.exists()
    assert untranslated(po) == []
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [("fr", "1 code révoqué.", "39 codes révoqués."), ("es", "1 código revocado.", "39 códigos revocados.")],
)
def test_given_a_language_when_a_count_is_one_or_many_then_both_forms_are_translated(language, one, many):
    from django.utils import translation

    with translation.override(language):
        for count, expected in ((1, one), (39, many)):
            assert translation.ngettext("%(count)d code revoked.", "%(count)d codes revoked.", count) % {
                "count": count
            } == expected
