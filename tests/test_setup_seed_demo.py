"""`manage.py seed_demo`: the demo network `make run` loads, built through the service layer."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, Event
from cms.models import Account, User
from codes.cover import unit_is_active
from codes.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PROVIDER, RIVAL_PROVIDER
from codes.models import Batch, Code, CodeState
from codes.rules import code_state
from codes.selectors import codes_visible_to, with_state
from units.models import Unit
from units.selectors import units_visible_to

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "provider": (DEMO_PROVIDER, User.Role.ADMIN),
    "reseller": ("North Sales", User.Role.ADMIN),
    "subreseller": ("North Farms Dealer", User.Role.OPERATOR),
    "customer": ("Harvest Co", User.Role.OPERATOR),
    "rival": (RIVAL_PROVIDER, User.Role.ADMIN),
}


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Account, User, Unit, Batch, Code, Event)
    }


def test_given_an_empty_database_when_seeding_then_the_demo_network_has_every_code_state():
    seed("--force")
    now = timezone.now()
    acme = Account.objects.get(depth=1, name=DEMO_PROVIDER)

    states = dict(
        with_state(Code.objects.filter(provider=acme), now).values("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    for state in CodeState:
        assert states.get(state.value, 0) > 0, f"no {state.value} code in the demo data: {states}"

    # a tree two reseller levels deep, with customers at the leaves
    sub_reseller = Account.objects.get(name="North Farms Dealer")
    assert sub_reseller.kind == Account.Kind.RESELLER and sub_reseller.depth == 3
    assert Account.objects.get_children(sub_reseller).filter(kind=Account.Kind.CUSTOMER).count() >= 2
    assert acme.time_zone == "Europe/Paris"

    assert Unit.objects.filter(provider=acme).count() == 200
    assert set(Batch.objects.filter(provider=acme).values_list("period_days", flat=True)) >= {30, 90, 365}

    acme_codes = Code.objects.filter(provider=acme)
    running = acme_codes.filter(unit__isnull=False, activated_at__lte=now, expires_at__gt=now)
    assert running.filter(expires_at__lte=now + timedelta(days=7)).count() >= 5
    assert running.filter(expires_at__gt=now + timedelta(days=7), expires_at__lte=now + timedelta(days=30)).count() >= 5
    assert running.filter(expires_at__lte=now + timedelta(minutes=10)).exists(), "nothing for the worker to expire"
    assert acme_codes.filter(activated_at__isnull=True, revoked_at__isnull=True, use_by__gte=now.date()).exists()
    assert acme_codes.filter(activated_at__isnull=True, use_by__lt=now.date()).exists(), "no lapsed use-by code"

    # a renewal ahead of time starts exactly when the running code ends
    scheduled = acme_codes.filter(unit__isnull=False, activated_at__gt=now).select_related("unit").first()
    before = acme_codes.get(unit=scheduled.unit, activated_at__lte=now, expires_at__gt=now)
    assert scheduled.activated_at == before.expires_at

    # history came through the services: every kind of event a year of use produces
    actions = set(Event.objects.values_list("action", flat=True))
    for action in (
        Action.GENERATED, Action.SHARED, Action.ATTACHED, Action.SCHEDULED, Action.STARTED, Action.RELEASED,
        Action.EXPIRED, Action.REVOKED, Action.REDEEMED, Action.REDEEM_REFUSED, Action.UNIT_ACTIVATED,
        Action.UNIT_DEACTIVATED,
    ):
        assert action in actions, f"no {action} event"
    assert Event.objects.filter(occurred_at__lt=now - timedelta(days=300)).exists(), "history is not in the past"

    # what was recorded agrees with what the clock decides
    for code in Code.objects.filter(expires_at__gt=now + timedelta(minutes=10)) | Code.objects.filter(expires_at=None):
        assert code.status == code_state(code, now), code
    for unit in Unit.objects.all():
        assert unit.is_active == unit_is_active(unit, now), unit


def test_given_seeded_data_when_seeding_again_then_nothing_changes(settings):
    settings.DEBUG = True  # the `make run` case: no --force needed
    seed()
    before = table_counts()

    output = seed()

    assert "nothing changed" in output
    assert table_counts() == before


def test_given_seeded_data_then_every_demo_login_signs_in_with_its_role(client):
    seed("--force")
    for username, (account_name, role) in DEMO_LOGINS.items():
        client.logout()
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{username} could not sign in"
        assert response.url == reverse("dashboard")
        user = User.objects.get(username=username)
        assert (user.account.name, user.role) == (account_name, role)

    client.logout()
    client.post(reverse("login"), {"username": "admin", "password": DEMO_PASSWORD})
    assert client.get(reverse("admin:codes_code_changelist")).status_code == 200
    assert User.objects.get(username="admin").is_superuser


def test_given_seeded_data_then_the_two_providers_never_see_each_other():
    seed("--force")
    rival = User.objects.get(username="rival")
    provider = User.objects.get(username="provider")

    assert codes_visible_to(rival).exists() and units_visible_to(rival).exists()
    assert not codes_visible_to(rival).filter(provider__name=DEMO_PROVIDER).exists()
    assert not units_visible_to(rival).filter(provider__name=DEMO_PROVIDER).exists()
    assert not codes_visible_to(provider).filter(provider__name=RIVAL_PROVIDER).exists()


def test_given_debug_off_when_seeding_without_force_then_it_refuses_and_writes_nothing(settings):
    settings.DEBUG = False
    before = table_counts()

    with pytest.raises(CommandError, match="--force"):
        seed()

    assert table_counts() == before


def test_given_seeded_data_then_what_was_created_was_created_before_its_history():
    seed("--force")
    now = timezone.now()

    for batch in Batch.objects.select_related("provider"):
        generated = Event.objects.filter(batch_id=batch.pk).aggregate(first=Min("occurred_at"))["first"]
        assert batch.created_at <= generated, (batch, batch.created_at, generated)
        if batch.use_by is not None:
            made_on = timezone.localtime(batch.created_at, batch.provider.zone).date()
            assert batch.use_by >= made_on, (batch, batch.use_by, made_on)
    for unit in Unit.objects.all():
        first = Event.objects.filter(unit_id=unit.pk).aggregate(first=Min("occurred_at"))["first"]
        assert first is None or unit.created_at <= first, (unit, unit.created_at, first)
    for account in Account.objects.all():
        mentioned = Q(account_id=account.pk) | Q(from_account_id=account.pk) | Q(to_account_id=account.pk)
        first = Event.objects.filter(mentioned).aggregate(first=Min("occurred_at"))["first"]
        assert first is None or account.created_at <= first, (account, account.created_at, first)
    # a unit that never had a code was not "created today" either, beside a year of history
    assert not Unit.objects.filter(created_at__gt=now - timedelta(days=1)).exists()
    assert not Account.objects.filter(created_at__gt=now - timedelta(days=1)).exists()
