"""A code e-mailed to a customer, as the Codes window and the code's page show it: "sent to ... on
...", the action to cancel the reservation, and staff actions refused with the reason."""

import re

import pytest
from django.urls import reverse

from audit.models import Action, Event
from codes.services import codes_send_by_email
from tests.domain.support import last_event_id, snapshot
from tests.ui.helpers import bulk_buttons
from tests.ui.query_counts import assert_page_queries

from .conftest import fresh

RECIPIENT = "driver@harvest.example"
SENT = f"sent to {RECIPIENT} on 2027-03-01 09:00"  # T0, in the provider's time zone (UTC)
CANCEL = reverse("codes:bulk_cancel_reservation")


@pytest.fixture
def reserved(window):
    """North Sales' available code, e-mailed by North's admin at T0."""
    codes_send_by_email(codes=[window.available_north], actor=window.network.north_admin, recipient=RECIPIENT)
    return fresh(window.available_north)


def row_of(content: str, code) -> str:
    """The window's row of one code."""
    return re.search(rf'<tr data-state="\w+">(?:(?!</tr>).)*?value="{code.pk}".*?</tr>', content, re.S).group(0)


def test_given_a_code_sent_by_email_then_the_window_shows_to_whom_and_when_in_its_state_cell(
    window, reserved, signed_in
):
    client = signed_in(window.network.provider_admin)

    response = assert_page_queries("codes:list", client, "/codes/?per_page=50")

    content = response.content.decode()
    assert SENT in row_of(content, reserved)
    assert content.count('data-testid="reservation"') == 1, "only the e-mailed code shows a reservation"


def test_given_a_code_sent_by_email_then_its_page_says_so_and_offers_to_cancel_the_reservation(
    window, reserved, signed_in
):
    client = signed_in(window.network.north_admin)

    content = client.get(reverse("codes:detail", args=[reserved.pk])).content.decode()

    notice = content[content.index('data-testid="code-reservation"'):]
    assert SENT in " ".join(notice[: notice.index("</div>")].split())
    assert f'formaction="{CANCEL}"' in content
    other = client.get(reverse("codes:detail", args=[window.y1.pk])).content.decode()
    assert "code-reservation" not in other and f'formaction="{CANCEL}"' not in other


def test_given_a_reserved_code_when_the_reservation_is_cancelled_from_its_page_then_it_is_free_and_audited(
    window, reserved, signed_in
):
    client = signed_in(window.network.north_admin)
    before = last_event_id()
    data = {"pk": [reserved.pk], "_return": reverse("codes:detail", args=[reserved.pk])}

    confirmation = client.post(CANCEL, data)
    assert confirmation.status_code == 200 and fresh(reserved).reserved_for == RECIPIENT, "asking changes nothing"
    response = client.post(CANCEL, {**data, "_confirm": "1"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["1 reservation cancelled."]
    assert (fresh(reserved).reserved_for, fresh(reserved).reserved_at) == ("", None)
    [entry] = Event.objects.filter(pk__gt=before)
    assert (entry.action, entry.actor, entry.details["recipient"]) == (
        Action.RESERVATION_CANCELLED, window.network.north_admin, RECIPIENT,
    )
    assert "code-reservation" not in response.content.decode()
    assert SENT not in client.get("/codes/").content.decode()


def test_given_a_code_not_reserved_among_the_selection_when_cancelling_then_nothing_changes_and_it_is_listed(
    window, reserved, signed_in
):
    client = signed_in(window.network.provider_admin)
    before = snapshot()

    response = client.post(CANCEL, {"pk": [reserved.pk, window.y1.pk], "_confirm": "1", "_return": "/codes/"})

    assert response.status_code == 409
    assert [(r.item, r.reason) for r in response.context["error"].refusals] == [
        (window.y1.display_text, "This code is not reserved.")
    ]
    assert snapshot() == before


def test_given_a_code_of_another_provider_when_cancelling_then_404(window, reserved, signed_in):
    client = signed_in(window.network.provider_admin)

    response = client.post(CANCEL, {"pk": [reserved.pk, window.rival_code.pk], "_confirm": "1"})

    assert response.status_code == 404 and fresh(reserved).reserved_for == RECIPIENT


def test_given_a_viewer_then_no_cancel_button_and_the_action_is_forbidden(window, reserved, signed_in):
    client = signed_in(window.network.provider_viewer)

    assert "bulk-codesbulk_cancel_reservation" not in bulk_buttons(client.get("/codes/"))
    assert client.post(CANCEL, {"pk": [reserved.pk], "_confirm": "1"}).status_code == 403
    assert fresh(reserved).reserved_for == RECIPIENT


def test_given_a_reserved_code_when_shared_from_the_window_then_refused_with_the_reason(window, reserved, signed_in):
    client = signed_in(window.network.provider_admin)
    before = snapshot()

    response = client.post(
        reverse("codes:bulk_share"),
        {"pk": [reserved.pk], "_confirm": "1", "_return": "/codes/", "account": window.network.north_farms.pk},
    )

    assert response.status_code == 409
    assert f"Reserved for {RECIPIENT} since" in response.content.decode()
    assert "cancel the reservation first" in response.content.decode()
    assert snapshot() == before
