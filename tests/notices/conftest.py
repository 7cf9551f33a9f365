"""The notices' world: a clock standing at NOW and codes that expire within days of it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from codes.services import code_attach, code_share
from tests import factories
from tests.mail_server import smtp_server  # noqa: F401  (a fixture: a real SMTP server)

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def expiring(network, clock):
    """North Sales holds two running codes: one ends in 5 days, one in 20. The provider holds
    one more ending in 3 days, on a South Rentals unit."""
    admin = network.provider_admin
    clock.move_to(NOW - 25 * DAY)
    north_code, = factories.codes(admin, quantity=1, period_days=30)
    code_share(code=north_code, to_account=network.north, actor=admin)
    code_attach(code=north_code, unit=factories.unit(network.harvest, actor=admin), actor=network.north_admin)
    clock.move_to(NOW - 10 * DAY)
    later, = factories.codes(admin, quantity=1, period_days=30)
    code_share(code=later, to_account=network.north, actor=admin)
    code_attach(code=later, unit=factories.unit(network.harvest, actor=admin), actor=network.north_admin)
    clock.move_to(NOW - 27 * DAY)
    south_code, = factories.codes(admin, quantity=1, period_days=30)
    code_attach(code=south_code, unit=factories.unit(network.south_rentals, actor=admin), actor=admin)
    clock.move_to(NOW)
    return north_code, later, south_code
