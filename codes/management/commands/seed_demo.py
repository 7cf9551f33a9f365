"""Demo data for `make run`: a realistic network with a year of history, built only through the
service layer (the same functions the UI, the API and the jobs call), with `now=` moved through
the past so the audit log reads like real use.

    provider "Acme Telematics" (Europe/Paris)           user provider     (admin)
      reseller "North Sales"                            user reseller     (admin)
        sub-reseller "North Farms Dealer"               user subreseller  (operator)
          customer "Harvest Co"                         user customer     (operator)
          customer "Green Valley Coop"
        customer "Nordic Freight"
      reseller "South Sales"
        sub-reseller "South Coast Dealer"
          customer "Harbour Logistics"
          customer "Riviera Taxis"
        customer "South Rentals"
    provider "Rival GPS" (America/New_York), to show isolation   user rival (admin)
      reseller "Rival Dealer"
        customer "Rival Customer"
    superuser admin (Django admin only, no account)

Every password is `demo`. Idempotent: when the demo provider exists, nothing is changed.
"""

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from cms.errors import DomainError
from cms.models import Account, User
from cms.services import account_create, provider_create, user_create
from codes.models import Batch, Code, CodeState
from codes.selectors import with_state
from codes.services import (
    batch_generate,
    code_redeem,
    codes_attach,
    codes_expire_due,
    codes_release,
    codes_revoke,
    codes_share,
)
from units.models import Unit
from units.services import unit_create

DEMO_PROVIDER = "Acme Telematics"
RIVAL_PROVIDER = "Rival GPS"
DEMO_PASSWORD = "demo"
DAY = timedelta(days=1)
#: Acme's network and fleet exist this many days before the seeding; its first batch a day later.
ACME_HISTORY_DAYS = 401

DEVICE_TYPES = ["Teltonika FMC130", "Teltonika FMB920", "Queclink GV300", "Ruptela FM-Eco4", "Concox GT06N"]

# (name, kind, parent name or None for the provider, time zone or None to inherit,
#  [(unit name prefix, how many units)])
ACME_TREE = [
    ("North Sales", "reseller", None, None, [("Demo van", 10)]),
    ("North Farms Dealer", "reseller", "North Sales", None, []),
    ("Harvest Co", "customer", "North Farms Dealer", None, [("Tractor", 18), ("Combine", 12)]),
    ("Green Valley Coop", "customer", "North Farms Dealer", None, [("Sprayer", 20)]),
    ("Nordic Freight", "customer", "North Sales", "Europe/Oslo", [("Truck", 25), ("Reefer", 20)]),
    ("South Sales", "reseller", None, "Europe/Madrid", []),
    ("South Coast Dealer", "reseller", "South Sales", None, []),
    ("Harbour Logistics", "customer", "South Coast Dealer", None, [("Container", 30)]),
    ("Riviera Taxis", "customer", "South Coast Dealer", None, [("Taxi", 25)]),
    ("South Rentals", "customer", "South Sales", None, [("Rental car", 40)]),
]

ACME_USERS = [
    # username, account, role
    ("provider", DEMO_PROVIDER, User.Role.ADMIN),
    ("reseller", "North Sales", User.Role.ADMIN),
    ("subreseller", "North Farms Dealer", User.Role.OPERATOR),
    ("customer", "Harvest Co", User.Role.OPERATOR),
]

# How the 200 Acme units have lived, by share of the fleet. See `_acme_history`.
PROFILES = [
    ("yearly_renewed", 40),  # 365-day code ran out 15 days ago; renewed ahead of time: no gap
    ("yearly", 30),  # 365-day code started 200 days ago
    ("quarterly", 40),  # 90-day codes started 10 to 80 days ago
    ("quarterly_ahead", 15),  # 90-day code ends in 10 days, the next one is already scheduled
    ("monthly_chain", 10),  # three 30-day codes back to back; the running one ends in 5 days
    ("ends_within_7_days", 8),
    ("ends_within_30_days", 15),
    ("ends_in_minutes", 3),  # the worker records these expirations a few minutes after seeding
    ("lapsed", 15),  # a 30-day code ran out 70 days ago, never renewed: deactivated
    ("released", 6),  # a 90-day code was taken off (device swapped); two went onto other units
    ("new", 18),  # never had a code; three get one redeemed by the customer
]


def _dated(queryset, when: datetime) -> None:
    """Date rows created by the services at the demo's moved clock: `created_at` is auto_now_add,
    which reads the real clock (an update() does not)."""
    queryset.update(created_at=when)


def _set_demo_password(user: User) -> None:
    # Demo only: "demo" fails AUTH_PASSWORD_VALIDATORS on purpose (too short, too common). The
    # validators guard the forms people use to choose a password; here set_password() is called
    # directly so the published demo logins work. The command refuses to run with DEBUG off.
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])


@dataclass
class Pool:
    """Unused code ids of one batch, handed out in order."""

    ids: list[int] = field(default_factory=list)

    def take(self, n: int) -> list[int]:
        if n > len(self.ids):
            raise CommandError(f"demo batch too small: wanted {n}, {len(self.ids)} left")
        taken, self.ids = self.ids[:n], self.ids[n:]
        return taken


class Seeder:
    def __init__(self, *, now: datetime, stdout):
        self.now = now
        self.stdout = stdout
        self.rng = random.Random(2026)
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}  # account name -> the demo user who acts there
        self.steps: list[tuple[datetime, int, object]] = []

    # --- the tree ----------------------------------------------------------------------------
    def account(self, name: str) -> Account:
        # treebeard rewrites paths in the database: always work on a fresh row
        return Account.objects.get(pk=self.accounts[name].pk)

    def build_tree(self, provider_name: str, time_zone: str, tree: list, *, since: datetime) -> dict[str, list[str]]:
        """The tree, created `since` (before its history starts)."""
        self.accounts[provider_name] = provider_create(name=provider_name, time_zone=time_zone)
        fleets: dict[str, list[str]] = {}
        for name, kind, parent, tz, units in tree:
            parent_account = self.account(parent or provider_name)
            self.accounts[name] = account_create(actor=None, parent=parent_account, name=name, kind=kind, time_zone=tz)
            fleets[name] = [f"{prefix} {n:02d}" for prefix, count in units for n in range(1, count + 1)]
        _dated(Account.objects.filter(pk__in=[self.accounts[name].pk for name in (provider_name, *fleets)]), since)
        return fleets

    def make_user(self, username: str, account_name: str, role: str) -> User:
        user = user_create(
            actor=None,
            account=self.account(account_name),
            username=username,
            # a throwaway strong password, replaced just below by the demo one
            password=secrets.token_urlsafe(24),
            role=role,
            email=f"{username}@demo.keyline.invalid",
        )
        _set_demo_password(user)
        self.users[account_name] = user
        return user

    def actor_for(self, account: Account) -> User:
        """The demo user of this account, or of the nearest account above it that has one."""
        for candidate in [account, *reversed(list(Account.objects.get_ancestors(account)))]:
            if candidate.name in self.users:
                return self.users[candidate.name]
        raise CommandError(f"no demo user above {account}")

    def make_units(self, fleets: dict[str, list[str]], imei_prefix: str, *, since: datetime) -> list:
        """The fleets' units, registered `since` (before their first code)."""
        units = []
        serial = 0
        for account_name, names in fleets.items():
            owner = self.account(account_name)
            actor = self.actor_for(owner)
            for name in names:
                serial += 1
                units.append(
                    unit_create(
                        actor=actor,
                        owner=owner,
                        name=name,
                        hardware_id=f"{imei_prefix}{self.rng.randrange(10**9):09d}{serial:04d}",
                        device_type=self.rng.choice(DEVICE_TYPES),
                    )
                )
        _dated(Unit.objects.filter(pk__in=[unit.pk for unit in units]), since)
        return units

    # --- moving codes ------------------------------------------------------------------------
    def deliver(self, code_ids: list[int], to: Account, when: datetime) -> None:
        """Share codes down the tree one level at a time, each level by its own demo user, as
        resellers pass stock on to their dealers and customers."""
        if not code_ids:
            return
        holder = Code.objects.get(pk=code_ids[0]).holder
        path = [a for a in [*Account.objects.get_ancestors(to), to] if holder.strictly_contains(a)]
        for target in path:
            codes_share(codes=code_ids, to_account=target, actor=self.actor_for(holder), now=when)
            holder = Account.objects.get(pk=target.pk)

    def attach(self, pairs: list[tuple[int, object]], when: datetime) -> None:
        """Deliver each code to its unit's owner, then attach, grouped by owner (the owner's
        demo user, or the nearest one above, does it)."""
        by_owner: dict[int, list] = defaultdict(list)
        for code_id, unit in pairs:
            by_owner[unit.owner_id].append((code_id, unit))
        for owner_id, group in by_owner.items():
            owner = Account.objects.get(pk=owner_id)
            self.deliver([c for c, _u in group], owner, when)
            codes_attach(pairs=[(c, u.pk) for c, u in group], actor=self.actor_for(owner), now=when)

    def at(self, when: datetime, action) -> None:
        """Queue an action for its moment; `run_timeline` plays them in order."""
        self.steps.append((when, len(self.steps), action))

    def run_timeline(self) -> None:
        for when, _order, action in sorted(self.steps, key=lambda s: (s[0], s[1])):
            # the minute job, as beat would have run it by then
            codes_expire_due(now=when)
            action(when)
        self.steps = []
        codes_expire_due(now=self.now)

    def batch(self, *, when: datetime, quantity: int, period_days: int, price: str, use_by=None, note: str) -> Pool:
        batch = batch_generate(
            actor=self.users[self.provider_name],
            quantity=quantity,
            period_days=period_days,
            unit_price=price,
            currency="EUR",
            use_by=use_by,
            note=note,
            background=False,
            now=when,
        )
        _dated(Batch.objects.filter(pk=batch.pk), when)
        return Pool(list(batch.codes.order_by("pk").values_list("pk", flat=True)))

    # --- Acme: a year of history -------------------------------------------------------------
    def acme(self) -> None:
        self.provider_name = DEMO_PROVIDER
        since = self.now - ACME_HISTORY_DAYS * DAY  # the network and its fleet, before the first batch
        fleets = self.build_tree(DEMO_PROVIDER, "Europe/Paris", ACME_TREE, since=since)
        for username, account_name, role in ACME_USERS:
            self.make_user(username, account_name, role)
        pool = self.make_units(fleets, "35", since=since)
        self.rng.shuffle(pool)

        def pick(owner_name: str, n: int) -> list:
            owner_id = self.accounts[owner_name].pk
            chosen = [u for u in pool if u.owner_id == owner_id][:n]
            for unit in chosen:
                pool.remove(unit)
            return chosen

        # Units some stories need in a given branch: the customer redeems onto its own new units,
        # and a released code can only go onto another unit in its holder's part of the tree.
        reserved = {
            "redeem_to": pick("Harvest Co", 3),
            "released": pick("Nordic Freight", 1) + pick("Riviera Taxis", 1),
            "reattach_to": pick("Nordic Freight", 1) + pick("Riviera Taxis", 1),
        }
        groups = {}
        for profile, count in PROFILES:
            if profile == "released":
                count -= len(reserved["released"])
            if profile == "new":
                count -= len(reserved["redeem_to"]) + len(reserved["reattach_to"])
            groups[profile], pool = pool[:count], pool[count:]
            assert len(groups[profile]) == count, f"not enough demo units for {profile}"
        assert not pool, f"{len(pool)} demo units have no profile"
        groups["released"] = reserved.pop("released") + groups["released"]
        groups.update(reserved)
        self._acme_history(groups)

    def _acme_history(self, g: dict[str, list]) -> None:
        T = self.now
        provider = self.users[DEMO_PROVIDER]
        pools: dict[str, Pool] = {}

        def new_batch(key, **kwargs):
            def step(when):
                pools[key] = self.batch(when=when, **kwargs)

            return step

        def attach_from(key, units, offset=timedelta(0)):
            def step(when):
                self.attach(list(zip(pools[key].take(len(units)), units, strict=True)), when + offset)

            return step

        def stock(key, n, account_name):
            def step(when):
                self.deliver(pools[key].take(n), self.account(account_name), when)

            return step

        # Batches, as the provider bought them over the year (the first one starts its history).
        self.at(T - (ACME_HISTORY_DAYS - 1) * DAY, new_batch("y1", quantity=100, period_days=365, price="96.00", note="Yearly stock"))
        self.at(T - 130 * DAY, new_batch("promo", quantity=30, period_days=30, price="8.00",
                                         use_by=(T - 20 * DAY).date(), note="Spring promotion, use by date"))
        self.at(T - 120 * DAY, new_batch("q", quantity=120, period_days=90, price="27.00", note="Quarterly"))
        self.at(T - 110 * DAY, new_batch("m", quantity=150, period_days=30, price="10.00", note="Monthly"))
        self.at(T - 45 * DAY, new_batch("y2", quantity=60, period_days=365, price="92.00", note="Yearly renewals"))
        self.at(T - 3 * DAY, new_batch("q2", quantity=40, period_days=90, price="27.00",
                                       use_by=(T + 45 * DAY).date(), note="Quarterly, use by end of next month"))
        self.at(T - 1 * DAY, new_batch("fresh", quantity=50, period_days=30, price="10.00", note="Monthly, new"))

        # Units' lives.
        self.at(T - 380 * DAY, attach_from("y1", g["yearly_renewed"]))
        self.at(T - 40 * DAY, attach_from("y2", g["yearly_renewed"]))  # scheduled: starts T-15d
        self.at(T - 200 * DAY, attach_from("y1", g["yearly"]))
        self.at(T - 100 * DAY, attach_from("promo", g["lapsed"]))
        for i, unit in enumerate(g["quarterly"]):
            self.at(T - (80 - i * 70 // len(g["quarterly"])) * DAY - i * timedelta(hours=3), attach_from("q", [unit]))
        self.at(T - 80 * DAY, attach_from("q", g["quarterly_ahead"]))
        self.at(T - 2 * DAY, attach_from("q2", g["quarterly_ahead"]))  # scheduled behind the running one
        chain = g["monthly_chain"]
        self.at(T - 85 * DAY, attach_from("m", chain))
        self.at(T - 60 * DAY, attach_from("m", chain))  # renewed ahead: starts T-55d
        self.at(T - 30 * DAY, attach_from("m", chain))  # renewed ahead: starts T-25d, ends T+5d
        for i, unit in enumerate(g["ends_within_7_days"]):
            self.at(T - 30 * DAY + (i + 1) * 17 * timedelta(hours=1), attach_from("m", [unit]))
        for i, unit in enumerate(g["ends_within_30_days"]):
            self.at(T - (22 - i * 20 // len(g["ends_within_30_days"])) * DAY, attach_from("m", [unit]))
        for i, unit in enumerate(g["ends_in_minutes"]):
            self.at(T - 30 * DAY + (2 + 2 * i) * timedelta(minutes=1), attach_from("m", [unit]))

        released = g["released"]
        self.at(T - 50 * DAY, attach_from("q", released))

        def release(when):
            codes = list(Code.objects.filter(unit__in=released).order_by("pk"))
            by_actor = defaultdict(list)
            for code in codes:
                by_actor[self.actor_for(code.holder).pk].append(code.pk)
            for actor_pk, ids in by_actor.items():
                codes_release(codes=ids, actor=User.objects.get(pk=actor_pk), now=when)

        self.at(T - 10 * DAY, release)

        def reattach(when):
            # A released code keeps its own clock: it goes onto a unit with no cover, in its branch.
            for source, target in zip(released[:2], g["reattach_to"], strict=True):
                code = Code.objects.filter(status=CodeState.RELEASED, events__unit=source).select_related("holder").first()
                codes_attach(pairs=[(code.pk, target.pk)], actor=self.actor_for(code.holder), now=when)

        self.at(T - 2 * DAY, reattach)

        def revoke(key, n, reason):
            def step(when):
                codes_revoke(codes=pools[key].take(n), actor=provider, reason=reason, now=when)

            return step

        self.at(T - 150 * DAY, revoke("y1", 5, "Lost in shipping"))
        self.at(T - 12 * timedelta(hours=1), revoke("fresh", 5, "Printed on the wrong invoice"))

        # Stock left at each level: available codes for every demo user to work with.
        self.at(T - 390 * DAY, stock("y1", 10, "North Sales"))
        self.at(T - 389 * DAY, stock("y1", 5, "South Sales"))
        self.at(T - 119 * DAY, stock("q", 14, "North Farms Dealer"))
        self.at(T - 118 * DAY, stock("q", 8, "Harvest Co"))
        self.at(T - 109 * DAY, stock("m", 15, "Nordic Freight"))
        self.at(T - 108 * DAY, stock("m", 10, "South Rentals"))
        self.at(T - 2 * DAY + timedelta(hours=1), stock("q2", 10, "North Sales"))
        self.at(T - 20 * timedelta(hours=1), stock("fresh", 12, "Harvest Co"))

        def redeem(when):
            # The customer applies codes to its own units, as on the redemption page.
            harvest = self.account("Harvest Co")
            codes = Code.objects.filter(holder=harvest, batch__note="Monthly, new", activated_at__isnull=True)
            for code, unit in zip(codes.order_by("pk"), g["redeem_to"], strict=False):
                code_redeem(code_text=code.text, hardware_id=unit.hardware_id, actor=self.users["Harvest Co"],
                            client_address="192.0.2.10", now=when)

        self.at(T - 6 * timedelta(hours=1), redeem)

        def refused(when):
            # Someone mistypes a code on the public page: the report shows the refusal.
            try:
                code_redeem(code_text="7KQ2M-9XH4T-0PZ8R-WD3NC-Q", hardware_id=g["new"][0].hardware_id,
                            client_address="198.51.100.7", now=when)
            except DomainError:
                pass

        self.at(T - 1 * timedelta(hours=1), refused)
        self.run_timeline()

    # --- Rival: a small second tree, to show that trees never see each other --------------------
    def rival(self) -> None:
        self.provider_name = RIVAL_PROVIDER
        T = self.now
        fleets = self.build_tree(
            RIVAL_PROVIDER,
            "America/New_York",
            [("Rival Dealer", "reseller", None, None, []), ("Rival Customer", "customer", "Rival Dealer", None, [("Bus", 8)])],
            since=T - 41 * DAY,
        )
        self.make_user("rival", RIVAL_PROVIDER, User.Role.ADMIN)
        units = self.make_units(fleets, "86", since=T - 41 * DAY)
        pool = Pool()

        def generate(when):
            pool.ids = self.batch(when=when, quantity=20, period_days=30, price="12.00", note="Rival monthly").ids

        self.at(T - 40 * DAY, generate)
        self.at(T - 20 * DAY, lambda when: self.attach(list(zip(pool.take(6), units[:6], strict=True)), when))
        self.at(T - 19 * DAY, lambda when: self.deliver(pool.take(5), self.account("Rival Dealer"), when))
        self.run_timeline()

    def superuser(self) -> None:
        admin = User.objects.create_superuser(username="admin", email="admin@demo.keyline.invalid", password=None)
        _set_demo_password(admin)


def summary(provider: Account, now: datetime) -> dict[str, int]:
    """How many of a provider's codes are in each state now."""
    rows = with_state(Code.objects.filter(provider=provider), now).values("state").annotate(n=Count("pk")).order_by()
    counts = {row["state"]: row["n"] for row in rows}
    return {state.value: counts.get(state.value, 0) for state in CodeState}


class Command(BaseCommand):
    help = (
        "Load the demo network (providers, resellers, customers, about 200 units, a year of code history) "
        "with the logins provider, reseller, subreseller, customer, rival and admin, password 'demo'. "
        "Does nothing when the demo data is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (the demo logins have a public password)."
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: its logins have the password 'demo'. "
                "Use --force if you really mean it."
            )
        existing = Account.objects.filter(depth=1, name=DEMO_PROVIDER).first()
        if existing is not None:
            self.stdout.write(f"Demo data already present ({DEMO_PROVIDER}); nothing changed.")
            return
        now = timezone.now()
        seeder = Seeder(now=now, stdout=self.stdout)
        with transaction.atomic():
            seeder.acme()
            seeder.rival()
            seeder.superuser()
        acme = Account.objects.get(depth=1, name=DEMO_PROVIDER)
        states = ", ".join(f"{n} {state}" for state, n in summary(acme, timezone.now()).items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. {DEMO_PROVIDER} codes: {states}."))
        self.stdout.write("Sign in as provider, reseller, subreseller, customer or rival (admin for /admin/); password: demo")
