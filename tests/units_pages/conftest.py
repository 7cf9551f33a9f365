"""Data for the Units pages: units in several branches, some covered, some not."""

from dataclasses import dataclass

import pytest

from codes.services import code_attach, code_share
from tests import factories


@dataclass
class Fleet:
    harvest_truck: object  # active, one running code and one scheduled behind it
    harvest_trailer: object  # deactivated, never had a code
    south_van: object  # active, running code only
    north_box: object  # owned by a reseller, deactivated
    rival_unit: object  # another provider's


@pytest.fixture
def fleet(network) -> Fleet:
    admin = network.provider_admin
    harvest_truck = factories.unit(network.harvest, admin, name="Harvest truck", hardware_id="350000000000001")
    harvest_trailer = factories.unit(network.harvest, admin, name="Harvest trailer", hardware_id="350000000000002")
    south_van = factories.unit(network.south_rentals, admin, name="South van", hardware_id="350000000000003")
    north_box = factories.unit(network.north, admin, name="North box", hardware_id="350000000000004")
    rival_unit = factories.unit(network.rival_customer, network.rival_admin, name="Rival unit", hardware_id="350000000000005")
    running, scheduled = factories.codes(admin, quantity=2, period_days=30)
    code_attach(code=running, unit=harvest_truck, actor=admin)
    code_attach(code=scheduled, unit=harvest_truck, actor=admin)
    (van_code,) = factories.codes(admin, quantity=1, period_days=90)
    code_share(code=van_code, to_account=network.south, actor=admin)
    code_attach(code=van_code, unit=south_van, actor=network.south_admin)
    return Fleet(harvest_truck, harvest_trailer, south_van, north_box, rival_unit)
