"""A Codes window with one code in every state, built only through the service layer, on the
stopped clock of `tests.domain.support` (T0 = 2027-03-01 09:00 UTC).

    provider "Acme Telematics" holds        available_provider (30 d, batch30), b90_spare (90 d),
                                            y1, y2 (365 d, batch365), revoked (30 d)
      North Sales holds                     available_north (30 d)
        North Farms Dealer / Harvest Co     running (30 d, on "Harvest Tractor", started T0),
                                            scheduled (90 d, behind it on the tractor)
      South Sales holds                     available_south (90 d)
      (provider)                            released (90 d, was on "Rental Van" 10 days)
      (provider)                            expired (30 d, ran on "Old Combine" 40 days ago)
    Rival GPS holds                         rival_code (never visible to Acme)
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from codes.models import Batch, Code
from codes.services import code_attach, code_release, code_revoke, code_share
from tests import factories
from tests.domain.support import DAY, T0
from units.models import Unit


@dataclass
class Window:
    network: object
    batch30: Batch
    batch90: Batch
    batch365: Batch
    tractor: Unit
    van: Unit
    combine: Unit
    available_provider: Code
    available_north: Code
    available_south: Code
    b90_spare: Code
    y1: Code
    y2: Code
    running: Code
    scheduled: Code
    released: Code
    expired: Code
    revoked: Code
    rival_code: Code

    def visible_working(self) -> set[int]:
        """What the provider sees with no filter: everything but expired and revoked."""
        return {c.pk for c in (
            self.available_provider, self.available_north, self.available_south, self.b90_spare, self.y1, self.y2,
            self.running, self.scheduled, self.released,
        )}


def fresh(code: Code) -> Code:
    return Code.objects.get(pk=code.pk)


@pytest.fixture
def window(network, clock) -> Window:
    admin = network.provider_admin
    clock.move_to(T0 - 45 * DAY)
    batch30 = factories.batch(admin, quantity=5, period_days=30)
    batch90 = factories.batch(admin, quantity=4, period_days=90)
    batch365 = factories.batch(admin, quantity=2, period_days=365)
    rival_batch = factories.batch(network.rival_admin, quantity=1, period_days=30)
    c30 = list(batch30.codes.order_by("pk"))
    c90 = list(batch90.codes.order_by("pk"))
    tractor = factories.unit(network.harvest, actor=admin, name="Harvest Tractor", hardware_id="861234500000011")
    van = factories.unit(network.south_rentals, actor=admin, name="Rental Van", hardware_id="861234500000022")
    combine = factories.unit(network.harvest, actor=admin, name="Old Combine", hardware_id="861234500000033")

    # 40 days before T0 a 30-day code ran on the combine: expired by now.
    clock.move_to(T0 - 40 * DAY)
    code_attach(code=c30[3], unit=combine, actor=admin)
    # 10 days before T0 a 90-day code went onto the van, and came off again at T0 - 5 days.
    clock.move_to(T0 - 10 * DAY)
    code_attach(code=c90[1], unit=van, actor=admin)
    clock.move_to(T0 - 5 * DAY)
    code_release(code=c90[1], actor=admin)

    clock.move_to(T0)
    code_share(code=c30[1], to_account=network.north, actor=admin)
    code_share(code=c90[2], to_account=network.south, actor=admin)
    code_share(code=c30[2], to_account=network.harvest, actor=admin)
    code_share(code=c90[0], to_account=network.harvest, actor=admin)
    code_attach(code=c30[2], unit=tractor, actor=admin)  # runs from T0 for 30 days
    code_attach(code=c90[0], unit=tractor, actor=admin)  # scheduled behind it
    code_revoke(code=c30[4], actor=admin)
    y1, y2 = batch365.codes.order_by("pk")
    return Window(
        network=network, batch30=batch30, batch90=batch90, batch365=batch365,
        tractor=tractor, van=van, combine=combine,
        available_provider=fresh(c30[0]), available_north=fresh(c30[1]), available_south=fresh(c90[2]),
        b90_spare=fresh(c90[3]), y1=y1, y2=y2,
        running=fresh(c30[2]), scheduled=fresh(c90[0]), released=fresh(c90[1]), expired=fresh(c30[3]),
        revoked=fresh(c30[4]), rival_code=rival_batch.codes.get(),
    )


@pytest.fixture
def signed_in(client):
    """`signed_in(user)` -> a test client signed in as that user."""

    def sign_in(user) -> Client:
        client.force_login(user)
        return client

    return sign_in
