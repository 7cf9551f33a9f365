"""History keeps its subjects (invariant 7): the audit log names codes, units, accounts, users and
batches without a database constraint (audit/models.py says why), so it is Django's PROTECT that
refuses to delete anything an entry names. These tests hold it to that, on every reference."""

import pytest
from django.db.models import ProtectedError

from audit.models import Action, Event
from cms.models import Account, User
from codes.services import code_attach, code_recall, code_release, code_share
from tests import factories
from tests.domain.support import refresh


def _refused_for_history(obj) -> None:
    with pytest.raises(ProtectedError) as refused:
        obj.delete()
    assert any(isinstance(protected, Event) for protected in refused.value.protected_objects)
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.fixture
def released_unit(network):
    """A unit that only its history names: a code was attached to it and released again."""
    code = factories.codes(network.provider_admin, quantity=1)[0]
    unit = factories.unit(network.south_rentals, actor=network.provider_admin)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    code_release(code=code, actor=network.provider_admin)
    assert not refresh(unit).codes.exists()
    return unit


class TestAnEntryProtectsWhatItNames:
    def test_a_unit_with_history_cannot_be_deleted(self, released_unit):
        assert Event.objects.filter(unit=released_unit, action=Action.UNIT_DEACTIVATED).exists()
        _refused_for_history(released_unit)

    def test_a_user_who_acted_cannot_be_deleted(self, network):
        factories.codes(network.provider_admin, quantity=1)
        _refused_for_history(network.provider_admin)

    def test_an_account_named_by_an_entry_cannot_be_deleted(self, network):
        """A shared code's entries name the receiving account (account, to_account)."""
        code = factories.codes(network.provider_admin, quantity=1)[0]
        code_share(code=code, to_account=network.south_rentals, actor=network.provider_admin)
        code_recall(code=code, actor=network.provider_admin)
        # The code is back with the provider: only history names the customer now.
        assert not network.south_rentals.held_codes.exists()
        assert Event.objects.filter(to_account=network.south_rentals).exists()
        _refused_for_history(Account.objects.get(pk=network.south_rentals.pk))

    def test_the_entries_read_their_subjects_back(self, released_unit, network):
        entry = Event.objects.filter(unit=released_unit, action=Action.ATTACHED).select_related(
            "code", "unit", "actor", "actor_account", "account", "batch"
        ).get()
        assert entry.unit == released_unit
        assert entry.actor == network.provider_admin
        assert entry.actor_account == network.provider
        assert entry.code.events.filter(pk=entry.pk).exists()
        assert entry.batch == entry.code.batch
        assert User.objects.filter(pk=entry.actor_id).exists()
