"""The test data of the isolation proofs: the `network` of tests/conftest.py, with one object of
every kind in four places, each carrying strings that identify it and that nobody outside its
part of the tree may ever see.

    set "farms":  North Farms Dealer and its customer Harvest Co   (below North Sales)
    set "north":  North Sales itself
    set "acme":   the provider Acme Telematics itself
    set "rival":  the other provider, Rival GPS
"""

from dataclasses import dataclass, field

import pytest

from audit.models import Event
from cms.models import Account, ApiToken, User
from codes.models import Batch, Code, ExpiryNotice
from codes.services import code_attach, code_share, notice_create
from tests import factories
from units.models import Unit


@dataclass
class ObjectSet:
    """One object of each kind, all belonging to one part of the tree."""

    name: str
    account: Account
    admin: User
    unit: Unit
    code: Code  # available, held here
    running: Code  # on the unit
    batch: Batch
    notice: ExpiryNotice
    token: ApiToken
    event: Event
    secrets: list[str] = field(default_factory=list)

    def get(self, kind: str):
        return getattr(self, kind)

    @property
    def invitation(self):
        """The admin's invitation link, with a guessed token."""
        from types import SimpleNamespace

        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        return SimpleNamespace(uidb64=urlsafe_base64_encode(force_bytes(self.admin.pk)), token="cxxxxx-guessed")


@dataclass
class World:
    network: object
    sets: dict[str, ObjectSet]
    viewers: dict[str, User]

    def __getitem__(self, name) -> ObjectSet:
        return self.sets[name]

    def secrets_of(self, *names: str, with_accounts: bool = True) -> list[str]:
        found = []
        for name in names:
            found += self.sets[name].secrets
            if with_accounts:
                # Names of accounts and of their people: a child account may see who above it
                # shared codes with it, so these are secrets only beside and across trees.
                found += [self.sets[name].account.name, self.sets[name].admin.username]
            else:
                found.remove(self.sets[name].admin.username)
        return found


def _set(name, *, account, admin, batch_admin, unit_owner=None) -> ObjectSet:
    tag = name.upper()
    unit = factories.unit(unit_owner or account, name=f"SECRET-UNIT-{tag}", hardware_id="99" + str(sum(map(ord, name)) * 7919).zfill(13))
    codes = factories.codes(batch_admin, quantity=2, period_days=30)
    code, running = codes
    for c in codes:
        if c.holder_id != account.pk:
            code_share(code=c, to_account=account, actor=batch_admin)
    code_attach(code=running, unit=unit, actor=batch_admin)
    code, running = Code.objects.get(pk=code.pk), Code.objects.get(pk=running.pk)
    notice = notice_create(actor=admin, name=f"SECRET-NOTICE-{tag}", text=f"SECRET-NOTICE-TEXT-{tag}", days_before=7)
    token, _key = ApiToken.issue(user=admin, name=f"SECRET-TOKEN-{tag}")
    event = Event.objects.filter(unit=unit).order_by("pk").first()
    secrets = [unit.name, unit.hardware_id, code.text, code.display_text, running.text, running.display_text,
               admin.username, notice.name, token.name]
    return ObjectSet(name=name, account=account, admin=admin, unit=unit, code=code, running=running,
                     batch=code.batch, notice=notice, token=token, event=event, secrets=secrets)


@pytest.fixture
def world(network) -> World:
    farms_admin = factories.user(network.north_farms, "admin", "secret-user-farms")
    north_admin = User.objects.get(pk=network.north_admin.pk)
    north_admin.username = "secret-user-north"
    north_admin.save(update_fields=["username"])
    acme_admin = User.objects.get(pk=network.provider_admin.pk)
    rival_admin = User.objects.get(pk=network.rival_admin.pk)
    south_admin = User.objects.get(pk=network.south_admin.pk)
    sets = {
        # Harvest's unit, codes held by the farms dealer.
        "farms": _set("farms", account=network.north_farms, admin=farms_admin, batch_admin=acme_admin),
        "north": _set("north", account=network.north, admin=north_admin, batch_admin=acme_admin),
        # A provider owns no units: its unit belongs to South's customer.
        "acme": _set("acme", account=network.provider, admin=acme_admin, batch_admin=acme_admin,
                     unit_owner=network.south_rentals),
        "rival": _set("rival", account=network.rival, admin=rival_admin, batch_admin=rival_admin,
                      unit_owner=network.rival_customer),
    }
    # The farms set's unit belongs to the customer below the dealer.
    harvest_unit = factories.unit(network.harvest, name="SECRET-UNIT-HARVEST", hardware_id="9900000000000042")
    sets["farms"].secrets += [harvest_unit.name, harvest_unit.hardware_id, "harvest-user"]
    sets["farms"].harvest_unit = harvest_unit
    viewers = {
        "other_branch": south_admin,
        "child": farms_admin,
        "parent": north_admin,
        "other_provider": rival_admin,
    }
    return World(network=network, sets=sets, viewers=viewers)


def snapshot() -> dict:
    """Everything a refused request could have changed."""
    return {
        "accounts": list(Account.objects.order_by("pk").values("pk", "path", "name", "kind", "is_active", "time_zone")),
        "users": list(User.objects.order_by("pk").values("pk", "username", "account_id", "role", "is_active",
                                                        "password", "email")),
        "units": list(Unit.objects.order_by("pk").values()),
        "codes": list(Code.objects.order_by("pk").values()),
        "batches": list(Batch.objects.order_by("pk").values()),
        "notices": list(ExpiryNotice.objects.order_by("pk").values()),
        "tokens": list(ApiToken.objects.order_by("pk").values("pk", "user_id", "name", "key_hash")),
        "events": Event.objects.count(),
    }
