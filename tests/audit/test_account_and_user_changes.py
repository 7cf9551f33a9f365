"""Every change of an account, a user, an API token or a notice writes its audit entry in the
change's own transaction, from the service that makes it: on the account the change concerns,
naming what changed (old -> new), never a password or a key. A refused change writes nothing."""

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.models import Action, Event
from cms.authentication import api_token_create, api_token_delete
from cms.errors import DomainError
from cms.models import Account, ApiToken, User
from cms.services import (
    account_create,
    account_disable,
    account_enable,
    account_update,
    invitation_accept,
    provider_create,
    user_create,
    user_disable,
    user_enable,
    user_invite,
    user_set_password,
    user_update,
)
from codes.services import account_move_customer, notice_create, notice_delete, notice_update
from tests.domain.support import last_event_id, new_events

GOOD = "blue-tractor-meadow-42"


def only(since: int, action: str) -> Event:
    (entry,) = new_events(since, action=action)
    return entry


class TestAccounts:
    def test_given_an_admin_when_creating_an_account_then_its_creation_is_recorded_on_it(self, network):
        since = last_event_id()

        orchard = account_create(actor=network.north_admin, parent=network.north_farms, name="Orchard Ltd",
                                 kind="customer")

        entry = only(since, Action.ACCOUNT_CREATED)
        assert (entry.account_id, entry.actor_id, entry.actor_account_id) == (
            orchard.pk, network.north_admin.pk, network.north.pk
        )
        assert entry.details == {"kind": "customer", "parent": "North Farms Dealer", "time_zone": "UTC"}

    def test_given_seeding_when_creating_a_provider_then_the_system_created_it(self, db):
        since = last_event_id()

        provider = provider_create(name="Blue Fleet", time_zone="Europe/Berlin")

        entry = only(since, Action.ACCOUNT_CREATED)
        assert (entry.account_id, entry.actor_id, entry.actor_label) == (provider.pk, None, "system")

    def test_given_a_new_name_and_time_zone_then_one_entry_each_with_old_and_new(self, network):
        since = last_event_id()

        account_update(actor=network.north_admin, account=network.harvest, name="Harvest & Sons",
                       time_zone="Europe/Paris")

        renamed, changed = new_events(since)
        assert (renamed.action, renamed.account_id, renamed.details) == (
            Action.ACCOUNT_RENAMED, network.harvest.pk, {"name": ["Harvest Co", "Harvest & Sons"]}
        )
        assert (changed.action, changed.details) == (Action.ACCOUNT_CHANGED, {"time_zone": ["UTC", "Europe/Paris"]})

    def test_given_the_same_name_and_zone_then_nothing_changed_and_nothing_is_recorded(self, network):
        since = last_event_id()

        account_update(actor=network.north_admin, account=network.harvest, name="Harvest Co", time_zone="UTC")

        assert not new_events(since).exists()

    def test_given_a_customer_moved_then_the_move_names_both_parents_and_both_branches_see_it(self, network):
        since = last_event_id()

        account_move_customer(actor=network.provider_admin, customer=network.harvest, new_parent=network.south)

        entry = only(since, Action.ACCOUNT_MOVED)
        assert (entry.account_id, entry.from_account_id, entry.to_account_id) == (
            network.harvest.pk, network.north_farms.pk, network.south.pk
        )

    def test_given_a_branch_disabled_and_enabled_then_each_account_of_it_has_its_entry(self, network):
        since = last_event_id()

        account_disable(actor=network.provider_admin, account=network.north)
        disabled = list(new_events(since))
        since = last_event_id()
        account_enable(actor=network.provider_admin, account=network.north)
        enabled = list(new_events(since))

        for entries, action in ((disabled, Action.ACCOUNT_DISABLED), (enabled, Action.ACCOUNT_ENABLED)):
            assert [(e.action, e.account_id) for e in entries] == [
                (action, network.north.pk), (action, network.north_farms.pk), (action, network.harvest.pk)
            ]
            assert entries[0].details == {}
            assert all(e.details == {"with_account": "North Sales"} for e in entries[1:])

    def test_given_an_account_disabled_twice_then_the_second_time_records_nothing(self, network):
        account_disable(actor=network.north_admin, account=network.harvest)
        since = last_event_id()

        account_disable(actor=network.north_admin, account=network.harvest)

        assert not new_events(since).exists()

    def test_given_a_refused_change_then_no_entry(self, network):
        since = last_event_id()

        for refused in (
            lambda: account_create(actor=network.north_admin, parent=network.south, name="Smuggled", kind="customer"),
            lambda: account_update(actor=network.north_admin, account=network.harvest, name="", time_zone="UTC"),
            lambda: account_update(actor=network.north_admin, account=network.harvest, name="X", time_zone="Mars/Base"),
            lambda: account_disable(actor=network.north_farms_operator, account=network.harvest),
            lambda: provider_create(name="Nowhere", time_zone="Mars/Base"),
        ):
            with pytest.raises(DomainError):
                refused()

        assert not new_events(since).exists()


class TestUsers:
    def test_given_a_new_user_then_its_creation_names_it_and_its_role(self, network):
        since = last_event_id()

        picker = user_create(actor=network.north_admin, account=network.harvest, username="picker", password=GOOD,
                             role="viewer")

        entry = only(since, Action.USER_CREATED)
        assert (entry.account_id, entry.actor_id) == (network.harvest.pk, network.north_admin.pk)
        assert entry.details == {"user": "picker", "role": "viewer"}
        assert GOOD not in str(entry.details) and picker.password not in str(entry.details)

    def test_given_a_role_and_contact_change_then_one_entry_for_the_role_and_one_for_the_details(self, network):
        since = last_event_id()

        user_update(actor=network.north_admin, user=network.harvest_user, role="viewer", email="h@example.com",
                    first_name="Hal")

        role, details = new_events(since)
        assert (role.action, role.account_id, role.details) == (
            Action.USER_ROLE_CHANGED, network.harvest.pk, {"user": "harvest-user", "role": ["operator", "viewer"]}
        )
        assert (details.action, details.details) == (
            Action.USER_CHANGED, {"user": "harvest-user", "email": ["", "h@example.com"], "first_name": ["", "Hal"]}
        )

    def test_given_an_edit_that_changes_nothing_then_no_entry(self, network):
        since = last_event_id()

        user_update(actor=network.north_admin, user=network.harvest_user, role="operator")

        assert not new_events(since).exists()

    def test_given_an_admin_sets_a_password_then_recorded_without_it_and_the_users_tokens_are_revoked(self, network):
        token, key = api_token_create(user=network.harvest_user, name="tracking server")
        since = last_event_id()

        user_set_password(actor=network.north_admin, user=network.harvest_user, password=GOOD)

        password_set, revoked = new_events(since)
        assert (password_set.action, password_set.account_id, password_set.actor_id, password_set.details) == (
            Action.USER_PASSWORD_SET, network.harvest.pk, network.north_admin.pk, {"user": "harvest-user"}
        )
        assert (revoked.action, revoked.details) == (
            Action.TOKEN_REVOKED, {"user": "harvest-user", "token": "tracking server", "reason": "password_set"}
        )
        assert not ApiToken.objects.filter(pk=token.pk).exists()
        for entry in (password_set, revoked):
            assert GOOD not in str(entry.details) and key not in str(entry.details)

    def test_given_users_disabled_and_enabled_then_one_entry_each_time_it_changed(self, network):
        since = last_event_id()

        user_disable(actor=network.north_admin, user=network.harvest_user)
        user_disable(actor=network.north_admin, user=network.harvest_user)  # already disabled: no change
        user_enable(actor=network.north_admin, user=network.harvest_user)

        assert [(e.action, e.account_id, e.details) for e in new_events(since)] == [
            (Action.USER_DISABLED, network.harvest.pk, {"user": "harvest-user"}),
            (Action.USER_ENABLED, network.harvest.pk, {"user": "harvest-user"}),
        ]

    def test_given_a_refused_change_then_no_entry(self, network):
        since = last_event_id()

        for refused in (
            lambda: user_create(actor=network.north_admin, account=network.south, username="x", password=GOOD, role="viewer"),
            lambda: user_create(actor=network.north_admin, account=network.harvest, username="harvest-user",
                                password=GOOD, role="viewer"),
            lambda: user_update(actor=network.north_admin, user=network.north_admin, role="viewer"),
            lambda: user_set_password(actor=network.north_admin, user=network.harvest_user, password="12345"),
            lambda: user_disable(actor=network.north_admin, user=network.south_admin),
        ):
            with pytest.raises(DomainError):
                refused()

        assert not new_events(since).exists()


class TestInvitations:
    def test_given_an_invitation_then_the_user_and_the_invitation_are_recorded_and_its_use_sets_the_password(
        self, network, django_capture_on_commit_callbacks
    ):
        since = last_event_id()
        with django_capture_on_commit_callbacks(execute=True):
            farmer = user_invite(actor=network.north_admin, account=network.harvest, username="new-farmer",
                                 email="farmer@example.com", role="operator")
        created, sent = new_events(since)

        since = last_event_id()
        invitation_accept(user=farmer, password=GOOD)
        used, password_set = new_events(since)

        assert (created.action, sent.action) == (Action.USER_CREATED, Action.INVITATION_SENT)
        assert sent.details == {"user": "new-farmer", "email": "farmer@example.com"}
        assert (used.action, used.actor_id, used.account_id) == (Action.INVITATION_USED, farmer.pk, network.harvest.pk)
        assert (password_set.action, password_set.actor_id) == (Action.USER_PASSWORD_SET, farmer.pk)
        assert User.objects.get(pk=farmer.pk).check_password(GOOD)

    def test_given_a_weak_password_when_accepting_then_refused_and_nothing_recorded(self, network):
        farmer = user_invite(actor=network.north_admin, account=network.harvest, username="new-farmer",
                             email="farmer@example.com", role="operator")
        since = last_event_id()

        with pytest.raises(DomainError):
            invitation_accept(user=farmer, password="12345")

        assert not new_events(since).exists()
        assert not User.objects.get(pk=farmer.pk).has_usable_password()

    def test_given_an_invitation_used_once_when_used_again_then_refused_and_nothing_recorded(self, network):
        farmer = user_invite(actor=network.north_admin, account=network.harvest, username="new-farmer",
                             email="farmer@example.com", role="operator")
        invitation_accept(user=farmer, password=GOOD)
        since = last_event_id()

        with pytest.raises(DomainError):
            invitation_accept(user=farmer, password="another-meadow-tractor-7")

        assert not new_events(since).exists()
        assert User.objects.get(pk=farmer.pk).check_password(GOOD)


class TestTokens:
    def test_given_a_token_created_and_deleted_then_both_are_recorded_by_name_never_by_key(self, network):
        since = last_event_id()

        token, key = api_token_create(user=network.harvest_user, name="tracking server")
        api_token_delete(user=network.harvest_user, token_id=token.pk)

        created, revoked = new_events(since)
        for entry, action in ((created, Action.TOKEN_CREATED), (revoked, Action.TOKEN_REVOKED)):
            assert (entry.action, entry.actor_id, entry.account_id) == (action, network.harvest_user.pk, network.harvest.pk)
            assert entry.details == {"user": "harvest-user", "token": "tracking server"}
            assert key not in str(entry.details) and token.key_hash not in str(entry.details)

    def test_given_the_management_command_then_the_system_created_the_token(self, network, capsys):
        since = last_event_id()

        call_command("api_token", "harvest-user", "--name", "erp")

        entry = only(since, Action.TOKEN_CREATED)
        key = capsys.readouterr().out.strip()
        assert (entry.actor_label, entry.account_id, entry.details) == (
            "system", network.harvest.pk, {"user": "harvest-user", "token": "erp"}
        )
        assert key and key not in str(entry.details)

    def test_given_someone_elses_token_when_deleting_then_not_found_and_nothing_recorded(self, network):
        token, _key = api_token_create(user=network.harvest_user, name="tracking server")
        since = last_event_id()

        with pytest.raises(DomainError):
            api_token_delete(user=network.north_admin, token_id=token.pk)

        assert not new_events(since).exists() and ApiToken.objects.filter(pk=token.pk).exists()


class TestNotices:
    def test_given_a_notice_created_changed_and_deleted_then_each_is_recorded_on_its_account(self, network):
        since = last_event_id()

        notice = notice_create(actor=network.north_admin, name="Week", text="Renew", days_before=7)
        notice_update(actor=network.north_admin, notice=notice, name="Fortnight", text="Renew", days_before=14,
                      show_repeatedly=True)
        notice_update(actor=network.north_admin, notice=notice, name="Fortnight", text="Renew", days_before=14,
                      show_repeatedly=True)  # no change
        notice_delete(actor=network.north_admin, notice=notice)

        assert [(e.action, e.account_id, e.details) for e in new_events(since)] == [
            (Action.NOTICE_CREATED, network.north.pk, {"notice": "Week", "days_before": 7, "show_repeatedly": True}),
            (Action.NOTICE_CHANGED, network.north.pk,
             {"notice": "Fortnight", "name": ["Week", "Fortnight"], "days_before": [7, 14]}),
            (Action.NOTICE_DELETED, network.north.pk, {"notice": "Fortnight"}),
        ]


def test_an_entry_shares_the_transaction_of_its_change(network):
    since = last_event_id()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        account_update(actor=network.north_admin, account=network.harvest, name="Renamed", time_zone="UTC")
        assert new_events(since, action=Action.ACCOUNT_RENAMED).exists()
        raise Abort

    assert not new_events(since).exists()
    assert Account.objects.get(pk=network.harvest.pk).name == "Harvest Co"
