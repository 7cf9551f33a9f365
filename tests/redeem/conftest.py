"""Fixtures of the redemption and e-mail tests.

    provider "Acme Telematics" holds nothing itself here: its codes are shared to "North Sales",
    so a unit of "Harvest Co" (below North) can take them and a unit of "South Rentals" cannot.
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from cms.models import User
from codes.models import Code
from codes.services import codes_share
from tests import factories
from tests.mail_server import smtp_server  # noqa: F401  (a fixture: a real SMTP server)
from units.models import Unit

ADDRESS = "203.0.113.7"


@dataclass
class Shop:
    network: object
    codes: list[Code]
    unit: Unit  # Harvest Co's tracker: can take North's codes
    other_unit: Unit  # Harvest Co's second tracker
    south_unit: Unit  # South Rentals': outside North's branch
    rival_unit: Unit
    rival_code: Code
    customer: User  # a signed-in user of Harvest Co


@pytest.fixture
def shop(network) -> Shop:
    codes = factories.codes(network.provider_admin, quantity=6, period_days=30)
    codes_share(codes=codes, to_account=network.north, actor=network.provider_admin)
    rival_code = factories.codes(network.rival_admin, quantity=1, period_days=30)[0]
    return Shop(
        network=network,
        codes=[Code.objects.get(pk=c.pk) for c in codes],
        unit=factories.unit(network.harvest, actor=network.provider_admin, name="Combine Harvester 7", hardware_id="356938035643809"),
        other_unit=factories.unit(network.harvest, actor=network.provider_admin, name="Tractor Blue", hardware_id="356938035643817"),
        south_unit=factories.unit(network.south_rentals, actor=network.provider_admin, name="Van 3", hardware_id="356938035643825"),
        rival_unit=factories.unit(network.rival_customer, actor=network.rival_admin, name="Rival Truck", hardware_id="356938035643833"),
        rival_code=rival_code,
        customer=network.harvest_user,
    )


@pytest.fixture
def visitor() -> Client:
    """An anonymous browser from a fixed public address."""
    return Client(REMOTE_ADDR=ADDRESS)


def check(client: Client, code: str, hardware_id: str | None = None, unit=None):
    data = {"step": "check", "code": code}
    if unit is not None:
        data["unit"] = str(unit.pk)
    else:
        data["hardware_id"] = hardware_id
    return client.post("/redeem/", data)


def confirm_data(response) -> dict:
    """The hidden fields of the confirmation form, as the browser would post them back."""
    form = response.context["form"]
    return {"step": "confirm", **{name: form.initial[name] for name in ("code", "hardware_id", "token")}}


def redeem(client: Client, code: str, hardware_id: str | None = None, unit=None):
    """Both steps, as a person would do them."""
    first = check(client, code, hardware_id, unit=unit)
    assert first.status_code == 200 and first.context["step"] == "confirm", first.content.decode()[:2000]
    return client.post("/redeem/", confirm_data(first))


def state_of(code: Code, now=None) -> str:
    """The code's state as the database has it now (never a stale instance's)."""
    from codes.rules import code_state

    return code_state(Code.objects.get(pk=code.pk), now)
