"""A code's page: its fields, and its whole history from the audit log."""

import re
from datetime import date

from django.urls import reverse

from audit.models import Action
from cms.models import Account
from codes.services import code_revoke, code_share


def detail(code) -> str:
    return reverse("codes:detail", args=[code.pk])


def history_actions(response) -> list[str]:
    return re.findall(r'<tr data-action="([a-z_]+)">', response.content.decode())


def test_given_a_running_code_then_its_page_shows_its_fields(window, signed_in):
    client = signed_in(window.network.provider_operator)
    response = client.get(detail(window.running))
    assert response.status_code == 200
    content = response.content.decode()
    assert window.running.display_text in content
    assert 'data-testid="code-state">Running<' in content
    for text in ("Harvest Co", "Harvest Tractor", "861234500000011", "30 days", "2027-03-01 09:00",
                 "2027-03-31 09:00", f"#{window.batch30.pk}", "10.00 EUR"):
        assert text in content, text
    assert response.context["days_left"] == 30


def test_given_a_code_then_its_history_lists_every_audit_entry_oldest_first(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(detail(window.running))
    assert history_actions(response) == [Action.GENERATED, Action.SHARED, Action.ATTACHED]
    response = client.get(detail(window.released))
    assert history_actions(response) == [Action.GENERATED, Action.ATTACHED, Action.RELEASED]
    content = response.content.decode()
    assert "Rental Van" in content  # the unit it was released from


def test_given_a_shared_code_then_the_history_names_both_accounts_and_the_actor(window, signed_in):
    client = signed_in(window.network.provider_admin)
    content = client.get(detail(window.available_north)).content.decode()
    assert "Acme Telematics" in content and "North Sales" in content and "acme-admin" in content


def test_given_a_revoked_code_then_its_page_says_revoked_and_shows_no_days_left(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get(detail(window.revoked))
    assert 'data-testid="code-state">Revoked<' in response.content.decode()
    assert response.context["days_left"] is None
    assert history_actions(response)[-1] == Action.REVOKED


def test_given_an_account_in_tokyo_then_the_page_shows_tokyo_times(window, signed_in):
    Account.objects.filter(pk=window.network.provider.pk).update(time_zone="Asia/Tokyo")
    content = signed_in(window.network.provider_admin).get(detail(window.running)).content.decode()
    assert "2027-03-01 18:00" in content and "Asia/Tokyo" in content


def test_given_a_code_outside_the_users_branch_then_the_answer_is_404(window, signed_in):
    client = signed_in(window.network.north_admin)
    assert client.get(detail(window.available_south)).status_code == 404
    assert client.get(detail(window.rival_code)).status_code == 404
    assert client.get(detail(window.available_north)).status_code == 200


def test_given_a_viewer_then_the_page_shows_no_action_buttons(window, signed_in):
    response = signed_in(window.network.provider_viewer).get(detail(window.y1))
    assert response.status_code == 200
    assert 'data-testid="code-actions"' not in response.content.decode()


def test_given_nobody_signed_in_then_the_page_redirects_to_sign_in(window, client):
    response = client.get(detail(window.y1))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_given_an_expired_code_then_its_page_offers_no_actions(window, signed_in):
    response = signed_in(window.network.provider_admin).get(detail(window.expired))
    assert response.context["actions"] == []
    assert 'data-testid="code-actions"' not in response.content.decode()


def test_given_a_revoked_code_then_the_reason_shows_in_its_history(window, signed_in):
    code_revoke(code=window.y1, actor=window.network.provider_admin, reason="Printed twice")
    content = signed_in(window.network.provider_admin).get(detail(window.y1)).content.decode()
    assert "Printed twice" in content


def test_given_an_unused_code_of_a_provider_in_auckland_then_a_reseller_in_utc_sees_when_its_use_by_day_ends(
    window, signed_in
):
    """The use-by day ends at midnight in Auckland (11:00 UTC on 1 March): the page says so in the viewer's zone."""
    from tests.domain.support import code_for

    Account.objects.filter(pk=window.network.provider.pk).update(time_zone="Pacific/Auckland")
    code = code_for(window.network, use_by=date(2027, 3, 1))
    code_share(code=code, to_account=window.network.north, actor=window.network.provider_admin)

    content = signed_in(window.network.north_admin).get(detail(code)).content.decode()
    use_by = re.search(r'data-testid="code-use-by">(.*?)</dd>', content, re.S).group(1)
    assert "2027-03-01" in use_by and "until 2027-03-01 11:00" in use_by
