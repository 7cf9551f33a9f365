"""Test data built through the service layer (never by writing state columns directly)."""

import itertools
from datetime import datetime

from cms.models import Account, User
from cms.services import account_create, provider_create
from codes.models import Batch, Code
from codes.services import batch_generate
from units.models import Unit
from units.services import unit_create

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def provider(name: str | None = None, time_zone: str = "UTC") -> Account:
    return provider_create(name=name or f"Provider {next(_counter)}", time_zone=time_zone)


def reseller(parent: Account, name: str | None = None) -> Account:
    return account_create(actor=None, parent=parent, name=name or f"Reseller {next(_counter)}", kind="reseller")


def customer(parent: Account, name: str | None = None) -> Account:
    return account_create(actor=None, parent=parent, name=name or f"Customer {next(_counter)}", kind="customer")


def user(account: Account, role: str = "admin", username: str | None = None) -> User:
    u = User(username=username or f"user{next(_counter)}", account=account, role=role)
    u.set_password(PASSWORD)
    u.save()
    return u


def unit(owner: Account, actor: User | None = None, name: str | None = None, hardware_id: str | None = None) -> Unit:
    n = next(_counter)
    if actor is None:
        actor = user(Account.objects.get(path=owner.provider_path), role="admin")
    return unit_create(
        actor=actor, owner=owner, name=name or f"Truck {n}", hardware_id=hardware_id or f"35{n:013d}"
    )


def batch(provider_admin: User, quantity: int = 5, period_days: int = 30, use_by=None,
          now: datetime | None = None) -> Batch:
    return batch_generate(
        actor=provider_admin, quantity=quantity, period_days=period_days, unit_price="10.00", currency="EUR",
        use_by=use_by, now=now, background=False,
    )


def codes(provider_admin: User, quantity: int = 5, period_days: int = 30, **kwargs) -> list[Code]:
    b = batch(provider_admin, quantity=quantity, period_days=period_days, **kwargs)
    return list(b.codes.order_by("pk"))
