"""Helpers for the specifications of the domain core: a controlled clock, codes in a given
state (always made through the service layer), and a snapshot to prove that a refusal changed
nothing.

The `clock` fixture (tests/conftest.py) stops time at T0.
"""

from datetime import UTC, datetime, timedelta

from audit.models import Event
from codes.models import Code
from codes.services import code_attach, code_share, codes_expire_due
from tests import factories
from units.models import Unit

#: The moment every clock-controlled test starts at.
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Net:
    """The accounts and users of a two-provider tree, built once per test class (hypothesis'
    TestCase keeps them across examples)."""


def build_network() -> Net:
    from cms.models import Account

    net = Net()
    net.provider = factories.provider("Acme")
    net.north = factories.reseller(net.provider, "North")
    net.north_farms = factories.reseller(net.north, "North Farms")
    net.harvest = factories.customer(net.north_farms, "Harvest")
    net.south = factories.reseller(net.provider, "South")
    net.south_rentals = factories.customer(net.south, "South Rentals")
    net.rival = factories.provider("Rival")
    net.rival_customer = factories.customer(net.rival, "Rival Customer")
    for name in ("provider", "north", "north_farms", "harvest", "south", "south_rentals", "rival", "rival_customer"):
        setattr(net, name, Account.objects.get(pk=getattr(net, name).pk))
    net.provider_admin = factories.user(net.provider, "admin")
    net.provider_operator = factories.user(net.provider, "operator")
    net.provider_viewer = factories.user(net.provider, "viewer")
    net.north_admin = factories.user(net.north, "admin")
    net.farms_operator = factories.user(net.north_farms, "operator")
    net.harvest_user = factories.user(net.harvest, "operator")
    net.harvest_viewer = factories.user(net.harvest, "viewer")
    net.south_admin = factories.user(net.south, "admin")
    net.rival_admin = factories.user(net.rival, "admin")
    return net


def codes_for(network, quantity=1, period_days=30, holder=None, use_by=None) -> list[Code]:
    """New available codes, held by `holder` (shared down by the provider's admin) or by the provider."""
    codes = factories.codes(network.provider_admin, quantity=quantity, period_days=period_days, use_by=use_by)
    if holder is not None and holder.pk != network.provider.pk:
        for code in codes:
            code_share(code=code, to_account=holder, actor=network.provider_admin)
    return [refresh(c) for c in codes]


def code_for(network, **kwargs) -> Code:
    return codes_for(network, quantity=1, **kwargs)[0]


def running_code(network, unit, period_days=30, **kwargs) -> Code:
    code = code_for(network, period_days=period_days, **kwargs)
    code_attach(code=code, unit=unit, actor=network.provider_admin)
    return refresh(code)


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def expire_job():
    return codes_expire_due()


def snapshot() -> dict:
    """Everything a refused service could have changed."""
    return {
        "codes": list(Code.objects.order_by("pk").values()),
        "units": list(Unit.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values_list("pk", flat=True)),
    }


def actions(**filters) -> list[str]:
    """Audit actions recorded so far (oldest first), optionally filtered."""
    return list(Event.objects.filter(**filters).order_by("pk").values_list("action", flat=True))


def new_events(since: int, **filters):
    return Event.objects.filter(pk__gt=since, **filters).order_by("pk")


def last_event_id() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
