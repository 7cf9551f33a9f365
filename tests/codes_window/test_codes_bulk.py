"""Bulk actions of the Codes window: share, recall, release, revoke.

Each one: the list posts the selection and gets a confirmation page that changes nothing; the
confirmed post changes every row or, when any row is refused, none (and lists every refused
row with its reason); "all matching the filter" re-runs the filter on the server; ids outside
the user's part of the tree answer 404.
"""

import pytest
from django.urls import reverse

from audit.models import Action, Event
from codes.models import Code, CodeState
from codes.rules import code_state
from tests.domain.support import last_event_id, snapshot

from .conftest import fresh

SHARE = reverse("codes:bulk_share")
RECALL = reverse("codes:bulk_recall")
RELEASE = reverse("codes:bulk_release")
REVOKE = reverse("codes:bulk_revoke")


def post(client, url, *codes, confirm=False, follow=False, **extra):
    data = {"pk": [c.pk for c in codes], "_return": "/codes/", **extra}
    if confirm:
        data["_confirm"] = "1"
    return client.post(url, data, follow=follow)


def post_all(client, url, query: str, confirm=False, follow=False, **extra):
    data = {"_all": "1", "_query": query, "_return": "/codes/", **extra}
    if confirm:
        data["_confirm"] = "1"
    return client.post(url, data, follow=follow)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def holder_of(code) -> int:
    return fresh(code).holder_id


# --- share ------------------------------------------------------------------------------------


def test_given_codes_posted_to_share_then_a_confirmation_page_shows_them_and_nothing_changes(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post(client, SHARE, window.y1, window.y2)
    assert response.status_code == 200
    content = response.content.decode()
    assert "This will change 2 rows." in content
    assert window.y1.display_text in content and window.y2.display_text in content
    assert response.context["summary"] == [("Available", 2)]
    # Only accounts below the user's are offered.
    offered = set(response.context["form"].fields["account"].queryset.values_list("pk", flat=True))
    assert window.network.provider.pk not in offered and window.network.north.pk in offered
    assert window.network.rival.pk not in offered
    assert snapshot() == before


def test_given_a_confirmed_share_then_every_code_moves_and_the_message_says_where(window, signed_in):
    client = signed_in(window.network.provider_operator)
    since = last_event_id()
    response = post(client, SHARE, window.y1, window.y2, confirm=True, follow=True, account=window.network.south.pk)
    assert response.redirect_chain[-1][0] == "/codes/"
    assert messages_of(response) == ["2 codes are now shared with South Sales."]
    assert holder_of(window.y1) == holder_of(window.y2) == window.network.south.pk
    events = Event.objects.filter(pk__gt=since)
    assert sorted(events.values_list("action", "code_id")) == sorted(
        [(Action.SHARED, window.y1.pk), (Action.SHARED, window.y2.pk)]
    )


def test_given_a_share_with_a_running_code_in_the_selection_then_nothing_moves_and_the_refusal_is_listed(
    window, signed_in
):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post(
        client, SHARE, window.y1, window.running, window.released, confirm=True, account=window.network.harvest.pk
    )
    assert response.status_code == 409
    refused = {r.item: r.reason for r in response.context["error"].refusals}
    assert set(refused) == {window.running.display_text}  # a released code on no unit moves like an available one
    content = response.content.decode()
    assert "1 of 3 rows were refused; nothing was changed." in content
    for item, reason in refused.items():
        assert item in content and str(reason).split(";")[0] in content
    assert snapshot() == before


def test_given_a_share_to_an_account_not_below_the_holder_then_it_is_refused_per_row(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    # available_north is held by North Sales: South Rentals is not below it.
    response = post(client, SHARE, window.available_north, window.y1, confirm=True, account=window.network.south_rentals.pk)
    assert response.status_code == 409
    assert [r.item for r in response.context["error"].refusals] == [window.available_north.display_text]
    assert snapshot() == before


def test_given_all_matching_a_filter_when_sharing_then_only_the_filtered_codes_move(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post_all(client, SHARE, "period_days=365", confirm=False)
    assert "This will change 2 rows." in response.content.decode()
    response = post_all(client, SHARE, "period_days=365", confirm=True, follow=True, account=window.network.north.pk)
    assert messages_of(response) == ["2 codes are now shared with North Sales."]
    assert holder_of(window.y1) == holder_of(window.y2) == window.network.north.pk
    assert holder_of(window.available_provider) == window.network.provider.pk
    assert holder_of(window.b90_spare) == window.network.provider.pk


def test_given_all_matching_with_the_default_view_then_expired_and_revoked_codes_are_not_included(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post_all(client, RECALL, "")
    codes = {row.pk for row in response.context["preview"].data}
    assert window.expired.pk not in codes and window.revoked.pk not in codes
    assert response.context["count"] == len(window.visible_working())


def test_given_an_invalid_filter_with_all_matching_then_nothing_changes_and_the_error_is_told(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post_all(
        client, SHARE, f"holder={window.network.rival.pk}", confirm=True, follow=True, account=window.network.north.pk
    )
    assert any("The filter is not valid" in m for m in messages_of(response))
    assert snapshot() == before


# --- recall -----------------------------------------------------------------------------------


def test_given_codes_held_below_when_recalling_then_they_come_back_to_the_users_account(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post(client, RECALL, window.available_north, window.available_south)
    assert response.status_code == 200 and "This will change 2 rows." in response.content.decode()
    response = post(client, RECALL, window.available_north, window.available_south, confirm=True, follow=True)
    assert messages_of(response) == ["2 codes recalled to Acme Telematics."]
    assert holder_of(window.available_north) == holder_of(window.available_south) == window.network.provider.pk


def test_given_a_recall_including_a_code_the_user_already_holds_then_nothing_is_recalled(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post(client, RECALL, window.available_north, window.y1, confirm=True)
    assert response.status_code == 409
    assert [r.item for r in response.context["error"].refusals] == [window.y1.display_text]
    assert snapshot() == before


def test_given_all_matching_a_holder_filter_when_recalling_then_only_that_branch_is_recalled(window, signed_in):
    client = signed_in(window.network.provider_admin)
    query = f"holder={window.network.north.pk}&holder_below=on&state=available"
    response = post_all(client, RECALL, query, confirm=True, follow=True)
    assert messages_of(response) == ["1 code recalled to Acme Telematics."]
    assert holder_of(window.available_north) == window.network.provider.pk
    assert holder_of(window.available_south) == window.network.south.pk


# --- release ----------------------------------------------------------------------------------


def test_given_codes_on_units_when_releasing_then_they_come_off_and_the_message_tells_what_became_of_them(
    window, signed_in
):
    client = signed_in(window.network.provider_operator)
    response = post(client, RELEASE, window.running, window.scheduled)
    assert response.status_code == 200
    assert sorted(response.context["summary"]) == [("Running", 1), ("Scheduled", 1)]
    response = post(client, RELEASE, window.running, window.scheduled, confirm=True, follow=True)
    assert messages_of(response) == [
        "2 codes released from their units. 1 keeps running on its own clock. 1 had not started and is available "
        "again. Unit Harvest Tractor is now deactivated."
    ]
    assert code_state(fresh(window.running)) == CodeState.RELEASED
    assert code_state(fresh(window.scheduled)) == CodeState.AVAILABLE


def test_given_a_units_whole_cover_selected_when_asked_to_release_then_the_confirmation_names_the_unit_it_deactivates(
    window, signed_in
):
    client = signed_in(window.network.provider_operator)
    before = snapshot()

    response = post(client, RELEASE, window.running, window.scheduled)

    assert response.status_code == 200 and response.context["deactivating"] == [window.tractor]
    content = response.content.decode()
    warning = content[content.index('data-testid="release-deactivates"'):]
    assert "1 unit will be deactivated now:" in warning
    assert "Harvest Tractor" in warning and window.tractor.hardware_id in warning
    assert snapshot() == before, "the confirmation changes nothing"


@pytest.mark.parametrize("chosen", ["running", "scheduled"])
def test_given_a_unit_keeping_a_code_when_asked_to_release_the_other_then_no_unit_is_named(window, signed_in, chosen):
    # Releasing the running code moves the scheduled one up to now; releasing the scheduled one
    # leaves the running one: the tractor stays active either way.
    client = signed_in(window.network.provider_operator)

    response = post(client, RELEASE, getattr(window, chosen))

    assert response.context["deactivating"] == []
    assert "No unit is deactivated by this release." in response.content.decode()
    confirmed = post(client, RELEASE, getattr(window, chosen), confirm=True, follow=True)
    assert "deactivated" not in messages_of(confirmed)[0]


def test_given_a_release_including_a_code_on_no_unit_then_nothing_is_released(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post(client, RELEASE, window.running, window.y1, window.released, confirm=True)
    assert response.status_code == 409
    assert {r.item for r in response.context["error"].refusals} == {window.y1.display_text, window.released.display_text}
    assert snapshot() == before


def test_given_all_matching_a_state_filter_when_releasing_then_only_the_filtered_codes_come_off(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post_all(client, RELEASE, "state=scheduled", confirm=True, follow=True)
    assert messages_of(response)[0].startswith("1 code released from its unit.")
    assert code_state(fresh(window.scheduled)) == CodeState.AVAILABLE
    assert code_state(fresh(window.running)) == CodeState.RUNNING


# --- revoke -----------------------------------------------------------------------------------


def test_given_a_provider_admin_when_revoking_unstarted_codes_then_they_are_revoked_with_the_reason(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post(client, REVOKE, window.y1, window.y2)
    assert response.status_code == 200 and "reason" in response.context["form"].fields
    response = post(client, REVOKE, window.y1, window.y2, confirm=True, follow=True, reason="Leaked list")
    assert messages_of(response) == ["2 codes revoked."]
    assert {code_state(fresh(c)) for c in (window.y1, window.y2)} == {CodeState.REVOKED}
    assert Event.objects.filter(action=Action.REVOKED, code=window.y1, details__reason="Leaked list").exists()


def test_given_a_revoke_including_a_started_code_then_nothing_is_revoked(window, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    response = post(client, REVOKE, window.y1, window.running, window.expired, confirm=True)
    assert response.status_code == 409
    assert {r.item for r in response.context["error"].refusals} == {
        window.running.display_text, window.expired.display_text,
    }
    assert snapshot() == before


def test_given_all_matching_a_batch_filter_when_revoking_then_only_that_batch_is_revoked(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = post_all(client, REVOKE, f"batch={window.batch365.pk}", confirm=True, follow=True)
    assert messages_of(response) == ["2 codes revoked."]
    assert Code.objects.filter(revoked_at__isnull=False).count() == 3  # the fixture's revoked code, y1 and y2


@pytest.mark.parametrize("who", ["provider_operator", "north_admin"])
def test_given_someone_other_than_a_provider_admin_when_revoking_then_it_is_forbidden(window, signed_in, who):
    client = signed_in(getattr(window.network, who))
    before = snapshot()
    assert post(client, REVOKE, window.available_north, confirm=True).status_code == 403
    assert snapshot() == before


# --- for every action -------------------------------------------------------------------------

ACTIONS = [SHARE, RECALL, RELEASE, REVOKE]


@pytest.mark.parametrize("url", ACTIONS)
def test_given_ids_of_another_provider_then_the_answer_is_404_and_nothing_changes(window, signed_in, url):
    client = signed_in(window.network.provider_admin)
    before = snapshot()
    for confirm in (False, True):
        response = post(client, url, window.y1, window.rival_code, confirm=confirm, account=window.network.north.pk)
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("url", ACTIONS)
def test_given_ids_outside_a_resellers_branch_then_the_answer_is_404(window, signed_in, url):
    client = signed_in(window.network.north_admin)
    before = snapshot()
    response = post(client, url, window.available_north, window.available_south, confirm=True)
    assert response.status_code in (403, 404)  # revoke is forbidden to resellers before anything else
    assert snapshot() == before


@pytest.mark.parametrize("url", ACTIONS)
def test_given_a_viewer_when_posting_a_bulk_action_then_it_is_refused_and_nothing_changes(window, signed_in, url):
    client = signed_in(window.network.provider_viewer)
    before = snapshot()
    response = post(client, url, window.y1, confirm=True, account=window.network.north.pk)
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("url", ACTIONS)
def test_given_nobody_signed_in_when_posting_then_it_redirects_to_sign_in(window, client, url):
    response = client.post(url, {"pk": [window.y1.pk], "_confirm": "1"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", ACTIONS)
def test_given_a_get_then_the_action_asks_for_a_selection_first(window, signed_in, url):
    assert signed_in(window.network.provider_admin).get(url).status_code == 400


def test_given_no_row_selected_then_the_list_says_so_and_nothing_changes(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.post(RECALL, {"_return": "/codes/?state=running"}, follow=True)
    assert response.redirect_chain[-1][0] == "/codes/?state=running"
    assert messages_of(response) == ["Select at least one row."]


def test_given_a_return_address_of_another_site_then_the_action_returns_to_the_list(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.post(
        RECALL, {"pk": [window.available_north.pk], "_confirm": "1", "_return": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("codes:list")


def test_given_the_send_by_email_button_then_it_posts_the_ticked_codes_to_the_mail_page(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.post(reverse("mail:send"), {"pk": [window.y1.pk, window.y2.pk], "_return": "/codes/"})
    assert response.status_code == 200
    assert window.y1.display_text in response.content.decode()


def test_given_the_code_page_then_its_action_buttons_post_the_code_to_the_bulk_actions(window, signed_in):
    client = signed_in(window.network.provider_admin)
    detail = reverse("codes:detail", args=[window.y1.pk])
    content = client.get(detail).content.decode()
    assert f'formaction="{SHARE}"' in content and f'value="{window.y1.pk}"' in content
    response = client.post(RECALL, {"pk": [window.available_north.pk], "_confirm": "1", "_return": detail})
    assert response["Location"] == detail
