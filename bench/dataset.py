"""Builds the benchmark data set fast: the account tree and batches through the ORM, then units,
codes and their audit entries by PostgreSQL COPY in large blocks, with a progress bar.

The shape (BENCH_SCALE codes, default 1,000,000):
- one provider, 50 resellers three levels deep (5 x 3 x 2 + the levels above), 90 customers below
  the third level;
- units: a tenth of the codes, owned by the customers;
- codes in every state with a realistic spread of dates over two years: ~70% of units have a
  running code and ~10% a scheduled one behind it; released, expired (half of them archived),
  revoked and available codes held at every level of the tree.

The rows obey the same invariants the service layer keeps (checked by the constraints), so the
measured queries see what production would.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from stdnum import luhn
from tqdm import tqdm

from cms.models import Account, User
from cms.services import account_create, provider_create
from codes import text as code_text
from codes.models import Batch, CodeState
from codes.use_by import use_by_ends_at
from units.models import Unit

PERIODS = (30, 90, 365)
BLOCK = 50_000


@dataclass
class Dataset:
    provider: Account
    resellers_by_level: dict[int, list[Account]]
    customers: list[Account]
    batches: dict[int, Batch]
    provider_user: User
    sub_reseller_user: User
    admin_user: User
    sub_reseller: Account
    sample_hardware_ids: list[str] = field(default_factory=list)
    sub_hardware_ids: list[str] = field(default_factory=list)


def _fast_code(rng: random.Random) -> str:
    value = rng.getrandbits(100)
    body = "".join(code_text.ALPHABET[(value >> (5 * i)) & 31] for i in range(code_text.BODY_LENGTH))
    return body + luhn.calc_check_digit(body, code_text.ALPHABET)


def _copy(table: str, columns: list[str], rows, total: int, label: str) -> None:
    """COPY rows (tuples) into table, in blocks, with a progress bar."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, tqdm(total=total, desc=label, unit="rows", mininterval=1.0) as bar:
        raw = cursor.cursor  # psycopg 3 cursor
        block = []
        for row in rows:
            block.append(row)
            if len(block) >= BLOCK:
                with raw.copy(sql) as copy:
                    for r in block:
                        copy.write_row(r)
                bar.update(len(block))
                block = []
        if block:
            with raw.copy(sql) as copy:
                for r in block:
                    copy.write_row(r)
            bar.update(len(block))


def _user(account, username, role="admin", **extra) -> User:
    user = User(username=username, account=account, role=role, **extra)
    user.set_password("bench-password-123")
    user.save()
    return user


def build(scale: int, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    now = timezone.now()
    n_units = max(10, scale // 10)

    # --- the tree (small: through the services) ----------------------------------------------
    provider = provider_create(name="Bench Provider", time_zone="Europe/Paris")
    levels: dict[int, list[Account]] = {1: [], 2: [], 3: []}
    customers: list[Account] = []
    for i in range(5):
        r1 = account_create(actor=None, parent=Account.objects.get(pk=provider.pk), name=f"Reseller {i}", kind="reseller")
        levels[1].append(r1)
        for j in range(3):
            r2 = account_create(actor=None, parent=Account.objects.get(pk=r1.pk), name=f"Reseller {i}.{j}", kind="reseller")
            levels[2].append(r2)
            for k in range(2):
                r3 = account_create(
                    actor=None, parent=Account.objects.get(pk=r2.pk), name=f"Reseller {i}.{j}.{k}", kind="reseller"
                )
                levels[3].append(r3)
                for c in range(3):
                    customers.append(
                        account_create(
                            actor=None, parent=Account.objects.get(pk=r3.pk), name=f"Customer {i}.{j}.{k}.{c}",
                            kind="customer",
                        )
                    )
    accounts = {a.pk: a for a in Account.objects.all()}
    customers = [accounts[c.pk] for c in customers]
    for level in levels:
        levels[level] = [accounts[a.pk] for a in levels[level]]
    provider = accounts[provider.pk]
    sub_reseller = levels[3][0]

    provider_user = _user(provider, "bench-provider")
    sub_user = _user(sub_reseller, "bench-sub", role="operator")
    admin_user = _user(None, "bench-admin", is_staff=True, is_superuser=True)

    batches = {}
    for period in PERIODS:
        batches[period] = Batch.objects.create(
            provider=provider, created_by=provider_user, quantity=max(1, scale // 3), generated_count=max(1, scale // 3),
            period_days=period, unit_price={30: "4.00", 90: "10.00", 365: "35.00"}[period], currency="EUR",
            status=Batch.Status.READY,
        )

    # --- units ---------------------------------------------------------------------------------
    owners = [customers[i % len(customers)] for i in range(n_units)]
    hardware_ids = [f"86{i:013d}" for i in range(n_units)]

    def unit_rows():
        for i in range(n_units):
            yield (provider.pk, owners[i].pk, f"Vehicle {i:06d}", hardware_ids[i], rng.choice(["FMB920", "FMC130", "TAT100"]),
                   False, now)

    _copy("units_unit", ["provider_id", "owner_id", "name", "hardware_id", "device_type", "is_active", "created_at"],
          unit_rows(), n_units, "units")
    unit_ids = list(Unit.objects.filter(provider=provider).order_by("pk").values_list("pk", flat=True))
    unit_owner = dict(zip(unit_ids, [o for o in owners], strict=True))

    # --- codes -----------------------------------------------------------------------------------
    running_units = unit_ids[: int(n_units * 0.7)]
    scheduled_units = running_units[: int(n_units * 0.1)]
    n_running, n_scheduled = len(running_units), len(scheduled_units)
    rest = scale - n_running - n_scheduled
    n_released = int(scale * 0.02)
    n_revoked = int(scale * 0.02)
    n_expired = int(scale * 0.35)
    n_available = max(0, rest - n_released - n_revoked - n_expired)
    holders_pool = [provider] * 8 + levels[1] + levels[2] + levels[3] + customers[:30]

    def holder_for_unit(unit_id):
        owner = unit_owner[unit_id]
        parent_path = owner.path[: -owner.steplen]
        return rng.choice([owner.pk, next(a.pk for a in levels[3] if a.path == parent_path)])

    def code_rows():
        running_end = {}
        for unit_id in running_units:
            period = rng.choice(PERIODS)
            activated = now - timedelta(seconds=rng.randint(3600, period * 86400 - 3600))
            expires = activated + timedelta(days=period)
            running_end[unit_id] = expires
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, None, None, holder_for_unit(unit_id), unit_id,
                   activated, expires, None, None, CodeState.RUNNING)
        for unit_id in scheduled_units:
            period = rng.choice(PERIODS)
            activated = running_end[unit_id]
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, None, None, holder_for_unit(unit_id), unit_id,
                   activated, activated + timedelta(days=period), None, None, CodeState.SCHEDULED)
        for _ in range(n_released):
            period = rng.choice(PERIODS)
            activated = now - timedelta(seconds=rng.randint(3600, period * 86400 - 3600))
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, None, None, rng.choice(holders_pool).pk, None,
                   activated, activated + timedelta(days=period), None, None, CodeState.RELEASED)
        for i in range(n_expired):
            period = rng.choice(PERIODS)
            expires = now - timedelta(seconds=rng.randint(60, 2 * 365 * 86400))
            activated = expires - timedelta(days=period)
            unit_id = rng.choice(unit_ids)
            archived = i % 2 == 0
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, None, None, holder_for_unit(unit_id),
                   None if archived else unit_id, activated, expires, None, expires + timedelta(days=1) if archived else None,
                   CodeState.EXPIRED)
        for _ in range(n_revoked):
            period = rng.choice(PERIODS)
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, None, None, provider.pk, None, None, None,
                   now - timedelta(days=rng.randint(1, 700)), None, CodeState.REVOKED)
        for _ in range(n_available):
            period = rng.choice(PERIODS)
            use_by = (now + timedelta(days=rng.randint(30, 700))).date() if rng.random() < 0.3 else None
            yield (_fast_code(rng), provider.pk, batches[period].pk, period, use_by,
                   use_by_ends_at(use_by, provider.time_zone), rng.choice(holders_pool).pk, None,
                   None, None, None, None, CodeState.AVAILABLE)

    total = n_running + n_scheduled + n_released + n_expired + n_revoked + n_available
    _copy(
        "codes_code",
        ["text", "provider_id", "batch_id", "period_days", "use_by", "usable_until", "holder_id", "unit_id", "activated_at",
         "expires_at", "revoked_at", "archived_at", "status", "reserved_for"],
        ((*row, "") for row in code_rows()), total, "codes",
    )
    with transaction.atomic():
        Unit.objects.filter(pk__in=running_units).update(is_active=True)

    # --- a realistic share of audit entries (the report is not the measured path) --------------
    def event_rows():
        cursor = connection.cursor()
        cursor.execute(
            "SELECT id, holder_id, unit_id, activated_at, expires_at, period_days, batch_id FROM codes_code "
            "WHERE status IN ('running', 'scheduled')"
        )
        for code_id, holder_id, unit_id, activated, expires, period, batch_id in cursor.fetchall():
            yield (activated or now, "attached", provider_user.pk, provider_user.username, provider.pk, holder_id, code_id,
                   unit_id, batch_id, activated, expires, period, "{}")

    _copy(
        "audit_event",
        ["occurred_at", "action", "actor_id", "actor_label", "actor_account_id", "account_id", "code_id", "unit_id",
         "batch_id", "activated_at", "expires_at", "period_days", "details"],
        event_rows(), n_running + n_scheduled, "events",
    )
    with connection.cursor() as cursor:
        # As a table in service would be: vacuumed (hint bits and visibility map set, so the
        # first measured writes do not pay for the load) and analysed. VACUUM cannot run in a
        # transaction (the dataset tests build inside one): those only analyse.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")

    sub_units = list(
        Unit.objects.filter(owner__path__startswith=sub_reseller.path).values_list("hardware_id", flat=True)[:2000]
    )
    return Dataset(
        provider=provider, resellers_by_level=levels, customers=customers, batches=batches,
        provider_user=provider_user, sub_reseller_user=sub_user, admin_user=admin_user, sub_reseller=sub_reseller,
        sample_hardware_ids=rng.sample(hardware_ids, min(5000, len(hardware_ids))), sub_hardware_ids=sub_units,
    )


def session_cookie(user: User) -> str:
    """A signed-in session for the load generator (as the login view would create)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def make_due(count: int, now: datetime) -> dict[str, int]:
    """Make `count` codes fall due at once, as the clock would: running codes whose end has come
    (on units with nothing scheduled behind), released codes that ran out, and unused codes whose
    use-by date has passed. Returns how many of each."""
    made = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE codes_code SET expires_at = %s - interval '1 minute' * (id %% 50 + 1),
                   activated_at = %s - interval '1 minute' * (id %% 50 + 1) - period_days * interval '1 day'
            WHERE id IN (
                SELECT c.id FROM codes_code c WHERE c.status = 'running' AND NOT EXISTS (
                    SELECT 1 FROM codes_code s WHERE s.unit_id = c.unit_id AND s.status = 'scheduled')
                ORDER BY c.id LIMIT %s)
            """,
            [now, now, count],
        )
        made["running"] = cursor.rowcount
        cursor.execute(
            """
            UPDATE codes_code SET expires_at = %s - interval '1 minute',
                   activated_at = %s - interval '1 minute' - period_days * interval '1 day'
            WHERE id IN (SELECT id FROM codes_code WHERE status = 'released' ORDER BY id LIMIT %s)
            """,
            [now, now, count - made["running"]],
        )
        made["released"] = cursor.rowcount
        cursor.execute(
            """
            UPDATE codes_code c SET use_by = (%s AT TIME ZONE a.time_zone)::date - 1,
                   usable_until = (%s AT TIME ZONE a.time_zone)::date::timestamp AT TIME ZONE a.time_zone
            FROM cms_account a
            WHERE a.id = c.provider_id
              AND c.id IN (SELECT id FROM codes_code WHERE status = 'available' ORDER BY id LIMIT %s)
            """,
            [now, now, count - made["running"] - made["released"]],
        )
        made["use_by_passed"] = cursor.rowcount
        cursor.execute("ANALYZE codes_code")
    return made


def redeemable_pairs(provider: Account, count: int) -> list[tuple[str, str]]:
    """(code text, hardware id) pairs that a redemption can succeed on: available codes held by
    the provider, on distinct units."""
    from codes.models import Code

    texts = list(
        Code.objects.filter(provider=provider, holder=provider, status=CodeState.AVAILABLE, use_by__isnull=True)
        .order_by("pk").values_list("text", flat=True)[:count]
    )
    hardware = list(Unit.objects.filter(provider=provider).order_by("-pk").values_list("hardware_id", flat=True)[:count])
    return list(zip(texts, hardware, strict=False))


