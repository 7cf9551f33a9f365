"""Expiry notices: defined by an account's admins and operators, shown after sign-in when some
units of the user's branch lose their cover within the notice's days, with a link to exactly
those units."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from cms.errors import DomainError, NotFound, PermissionDenied
from codes.models import ExpiryNotice, NoticeSeen
from codes.notices import notices_due_for
from codes.services import code_attach, code_release, codes_attach, notice_create, notice_delete, notice_update
from tests import factories
from tests.domain.support import refresh
from tests.notices.conftest import NOW

# --- services ------------------------------------------------------------------------------------


def test_given_an_operator_when_creating_a_notice_then_it_belongs_to_its_account(network):
    notice = notice_create(
        actor=network.north_farms_operator, name="Renew soon", text="Order codes", days_before=14,
        show_repeatedly=False,
    )
    assert (notice.account_id, notice.days_before, notice.show_repeatedly) == (network.north_farms.pk, 14, False)


@pytest.mark.parametrize("days", [0, 100, -1, "x"])
def test_given_days_outside_1_to_99_when_creating_then_refused_and_nothing_created(network, days):
    with pytest.raises(DomainError):
        notice_create(actor=network.north_admin, name="N", text="T", days_before=days)
    assert not ExpiryNotice.objects.exists()


def test_given_a_blank_name_or_text_when_creating_then_refused(network):
    with pytest.raises(DomainError):
        notice_create(actor=network.north_admin, name="  ", text="T", days_before=3)
    with pytest.raises(DomainError):
        notice_create(actor=network.north_admin, name="N", text="", days_before=3)
    assert not ExpiryNotice.objects.exists()


def test_given_a_viewer_when_creating_a_notice_then_refused(network):
    with pytest.raises(PermissionDenied):
        notice_create(actor=network.provider_viewer, name="N", text="T", days_before=3)


def test_given_a_notice_of_another_account_when_updating_or_deleting_then_not_found(network):
    notice = notice_create(actor=network.north_admin, name="N", text="T", days_before=3)
    for outsider in (network.provider_admin, network.south_admin, network.rival_admin):
        with pytest.raises(NotFound):
            notice_update(actor=outsider, notice=notice, name="X", text="Y", days_before=5, show_repeatedly=True)
        with pytest.raises(NotFound):
            notice_delete(actor=outsider, notice=notice)
    notice.refresh_from_db()
    assert (notice.name, notice.days_before) == ("N", 3)


def test_given_its_own_notice_when_updating_and_deleting_then_it_changes_and_goes(network):
    notice = notice_create(actor=network.north_admin, name="N", text="T", days_before=3)
    notice_update(actor=network.north_admin, notice=notice, name="M", text="U", days_before=9, show_repeatedly=False)
    notice.refresh_from_db()
    assert (notice.name, notice.text, notice.days_before, notice.show_repeatedly) == ("M", "U", 9, False)
    with pytest.raises(DomainError):
        notice_update(actor=network.north_admin, notice=notice, name="M", text="U", days_before=120, show_repeatedly=False)
    notice.refresh_from_db()
    assert notice.days_before == 9
    notice_delete(actor=network.north_admin, notice=notice)
    assert not ExpiryNotice.objects.exists()


# --- which notices are due -------------------------------------------------------------------


def test_given_codes_expiring_when_asking_which_notices_are_due_then_counts_follow_each_notices_days(
    network, expiring
):
    week = notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)
    month = notice_create(actor=network.north_admin, name="Month", text="T", days_before=30)
    notice_create(actor=network.north_admin, name="Two days", text="T", days_before=2)
    due = notices_due_for(network.north_admin, NOW)
    assert [(d.notice.pk, d.count) for d in due] == [(week.pk, 1), (month.pk, 2)]  # "Two days": nothing due


def test_given_a_due_notice_then_its_link_opens_the_units_window_on_exactly_those_units(client, network, expiring):
    north_code, later, _ = expiring
    notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)
    (due,) = notices_due_for(network.north_admin, NOW)
    query = parse_qs(urlparse(due.units_url).query)
    assert query == {"cover_ends_after": ["2027-03-01"], "cover_ends_before": ["2027-03-08"]}
    client.force_login(network.north_admin)
    listed = client.get(due.units_url).context["table"].data
    assert [u.pk for u in listed] == [refresh(north_code).unit_id]


class TestNoticesCountUnitsLosingCover:
    """A notice warns of units about to switch off, not of codes reaching their end."""

    def test_given_a_unit_renewed_ahead_of_time_then_it_is_not_due(self, network, expiring):
        north_code, _later, _ = expiring
        renewal = factories.codes(network.provider_admin, quantity=1)[0]
        code_attach(code=renewal, unit=refresh(north_code).unit_id, actor=network.provider_admin)
        notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)

        assert notices_due_for(network.north_admin, NOW) == []

    def test_given_a_released_code_ending_soon_on_no_unit_then_nothing_is_due(self, network, expiring, clock):
        north_code, _later, _ = expiring
        code_release(code=north_code, actor=network.north_admin)
        notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)

        assert notices_due_for(network.north_admin, NOW) == []

    def test_given_two_codes_ending_on_one_unit_then_it_counts_once_at_the_end_of_the_last(self, network, clock):
        admin = network.provider_admin
        unit = factories.unit(network.harvest, actor=admin)
        first, second = factories.codes(admin, quantity=2, period_days=2)
        codes_attach(pairs=[(first, unit), (second, unit)], actor=admin)
        notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)
        notice_create(actor=network.north_admin, name="Tomorrow", text="T", days_before=1)

        due = notices_due_for(network.north_admin, NOW)

        assert [(d.notice.name, d.count) for d in due] == [("Week", 1)]  # its cover ends in 4 days


def test_given_a_due_notice_then_the_dashboard_says_how_many_units_lose_their_cover(client, network, expiring):
    notice_create(actor=network.north_admin, name="Week", text="T", days_before=7)
    client.force_login(network.north_admin)

    page = client.get(reverse("dashboard")).content.decode()

    assert "1 unit loses its cover within 7 days" in page


def test_given_a_notice_of_another_account_then_it_is_not_due_for_this_user(network, expiring):
    notice_create(actor=network.provider_admin, name="Provider", text="T", days_before=7)
    assert notices_due_for(network.north_admin, NOW) == []
    (due,) = notices_due_for(network.provider_admin, NOW)
    assert due.count == 2  # the provider sees North's code ending in 5 days and its own ending in 3


def test_given_a_show_once_notice_when_the_user_opens_the_dashboard_twice_then_it_shows_once(client, network, expiring):
    notice_create(actor=network.north_admin, name="Once", text="Only once", days_before=7, show_repeatedly=False)
    notice_create(actor=network.north_admin, name="Always", text="Every time", days_before=7)
    client.force_login(network.north_admin)
    first = client.get(reverse("dashboard"))
    assert [d.notice.name for d in first.context["notices_due"]] == ["Always", "Once"]
    assert "Only once" in first.content.decode()
    second = client.get(reverse("dashboard"))
    assert [d.notice.name for d in second.context["notices_due"]] == ["Always"]
    assert NoticeSeen.objects.filter(user=network.north_admin).count() == 1


def test_given_a_show_once_notice_seen_by_one_user_then_another_user_still_sees_it(client, network, expiring):
    notice_create(actor=network.provider_admin, name="Once", text="T", days_before=7, show_repeatedly=False)
    client.force_login(network.provider_admin)
    client.get(reverse("dashboard"))
    assert notices_due_for(network.provider_admin, NOW) == []
    assert [d.notice.name for d in notices_due_for(network.provider_operator, NOW)] == ["Once"]


def test_given_nothing_due_when_opening_the_dashboard_then_a_show_once_notice_is_not_used_up(client, network, clock):
    notice = notice_create(actor=network.north_admin, name="Once", text="T", days_before=7, show_repeatedly=False)
    client.force_login(network.north_admin)
    assert client.get(reverse("dashboard")).context["notices_due"] == []
    assert not NoticeSeen.objects.filter(notice=notice).exists()


# --- pages -------------------------------------------------------------------------------------


def test_given_an_operator_when_using_the_notice_pages_then_it_creates_edits_and_deletes(client, network):
    client.force_login(network.north_farms_operator)
    assert client.get(reverse("notices:list")).status_code == 200
    assert client.get(reverse("notices:create")).status_code == 200
    response = client.post(
        reverse("notices:create"), {"name": "Renew", "text": "Order now", "days_before": "10", "show_repeatedly": "on"}
    )
    assert response.status_code == 302
    notice = ExpiryNotice.objects.get()
    assert (notice.account_id, notice.days_before, notice.show_repeatedly) == (network.north_farms.pk, 10, True)
    assert "Renew" in client.get(reverse("notices:list")).content.decode()

    response = client.post(reverse("notices:edit", args=[notice.pk]), {"name": "Renew!", "text": "Now", "days_before": "5"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert (notice.name, notice.days_before, notice.show_repeatedly) == ("Renew!", 5, False)

    assert client.get(reverse("notices:delete", args=[notice.pk])).status_code == 200
    assert client.post(reverse("notices:delete", args=[notice.pk])).status_code == 302
    assert not ExpiryNotice.objects.exists()


def test_given_bad_input_when_posting_the_form_then_the_error_shows_and_nothing_is_saved(client, network):
    client.force_login(network.north_admin)
    response = client.post(reverse("notices:create"), {"name": "N", "text": "T", "days_before": "100"})
    assert response.status_code == 400
    assert response.context["form"].errors["days_before"]
    assert not ExpiryNotice.objects.exists()


def test_given_a_notice_of_another_account_when_opening_its_pages_then_404(client, network):
    notice = notice_create(actor=network.north_admin, name="N", text="T", days_before=3)
    client.force_login(network.south_admin)
    assert client.get(reverse("notices:edit", args=[notice.pk])).status_code == 404
    assert client.post(reverse("notices:delete", args=[notice.pk])).status_code == 404
    assert ExpiryNotice.objects.filter(pk=notice.pk).exists()


def test_given_a_viewer_when_opening_the_create_page_then_forbidden(client, network):
    client.force_login(network.provider_viewer)
    assert client.get(reverse("notices:list")).status_code == 200
    assert client.get(reverse("notices:create")).status_code == 403


def test_given_an_anonymous_visitor_when_opening_the_notices_then_redirected(client, db):
    response = client.get(reverse("notices:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
