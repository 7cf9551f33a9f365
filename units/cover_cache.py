"""The unit-status call from the cache: `GET /api/v1/units/{hardware id}/` as a tracking server
asks it before accepting a unit's data (issue 7).

A *cover record* holds what the answer needs that is the same for every caller: the unit, its
owner and the codes on it (running and scheduled) with their times. It holds no state: which
code runs, whether the unit is active and how many days are left are worked out from those
times and the clock on every read, exactly as `units.selectors.unit_cover` does, so the record
stays true while time passes (a scheduled code starting, a running one ending) without being
written again. Whether the caller may see the unit is also decided on every read, from the
owner's path in the record and the caller's path in its token entry
(`cms.authentication.token_record`), as `units.selectors.units_visible_to` does.

Records are kept per hardware id (and, inside, per provider tree: a hardware id is unique only
within a provider) for KEYLINE_COVER_CACHE_SECONDS. They are a read-side copy: the services
change a unit's version whenever they change the unit or its codes (`units_changed`, called
where the services lock units: `codes.locking.lock_units`, and by the set-based expiry job), and
the accounts version whenever an account changes; a record built under older versions is never
used (`cms.hotcache` explains why versions and not deletes).
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.fields import DateTimeField
from rest_framework.renderers import JSONRenderer

from cms.authentication import ApiToken, token_key, token_record
from cms.hotcache import (
    accounts_version_key,
    changes_pending,
    hot_key,
    local_tier,
    logins_version_key,
    versions_current,
    versions_renew,
)
from cms.models import Account
from codes import text as code_text
from codes.models import Code

from .models import Unit
from .selectors import units_in_branch

_utc_time = DateTimeField(default_timezone=datetime.UTC).to_representation  # as the API writes times
_render = JSONRenderer().render  # the API's own JSON, byte for byte


def cover_key(hardware_id: str) -> str:
    return hot_key("cover", hardware_id)


def unit_version_key(hardware_id: str) -> str:
    return hot_key("version", "unit", hardware_id)


def units_changed(hardware_ids: Iterable[str]) -> None:
    """These units, or the codes on them, change in the current transaction: their cover
    records are not used again once it commits."""
    hardware_ids = set(hardware_ids)
    versions_renew([unit_version_key(hardware_id) for hardware_id in hardware_ids], hardware_ids=hardware_ids)


# --- building a record (on a miss) ------------------------------------------------------------


def cover_record(unit: Unit, *, versions: tuple, now: datetime.datetime | None = None) -> dict:
    """What every caller's answer about this unit is made of. `unit` comes with its owner."""
    now = now or timezone.now()
    # The codes `unit_cover` would read now; later reads only ever drop some (the clock moves on).
    codes = (
        Code.objects.filter(unit=unit, activated_at__isnull=False, expires_at__gt=now)
        .order_by("activated_at")
        .values_list("text", "period_days", "activated_at", "expires_at", "revoked_at")
    )
    owner = unit.owner
    return {
        "versions": versions,
        "owner_path": owner.path,
        "hardware_id": unit.hardware_id,
        "name": unit.name,
        "device_type": unit.device_type,
        "owner": {"id": owner.pk, "name": owner.name, "kind": owner.kind},
        "created_at": _utc_time(unit.created_at),
        "chain": [
            (activated_at, expires_at, revoked_at is not None, code_text.display(text), period_days,
             _utc_time(activated_at), _utc_time(expires_at))
            for text, period_days, activated_at, expires_at, revoked_at in codes
        ],
    }


def _visible_unit(token: dict, hardware_id: str) -> Unit | None:
    """The unit with this hardware id among the caller's units (`units_visible_to`)."""
    branch = units_in_branch(
        account_id=token["account_id"], path=token["account_path"], depth=token["account_depth"]
    )
    return branch.select_related("owner").filter(hardware_id=hardware_id).first()


# --- reading ------------------------------------------------------------------------------------


def _brief(code: tuple, state: str) -> dict:
    """`CodeBriefSerializer`'s fields, in its order."""
    _start, _end, revoked, text, period_days, activated_at, expires_at = code
    return {
        "code": text, "state": "revoked" if revoked else state, "period_days": period_days,
        "activated_at": activated_at, "expires_at": expires_at,
    }


def cover_answer(record: dict, now: datetime.datetime) -> dict:
    """`UnitDetailSerializer(unit_cover(unit, now)).data`, from a record: the same loop over the
    codes that have not ended, the same fields in the same order."""
    running, scheduled = None, []
    for code in record["chain"]:
        start, end = code[0], code[1]
        if end <= now:
            continue
        if start <= now:
            running = code
        else:
            scheduled.append(code)
    chain = ([running] if running else []) + scheduled
    until = chain[-1] if chain else None
    return {
        "hardware_id": record["hardware_id"],
        "name": record["name"],
        "device_type": record["device_type"],
        "owner": record["owner"],
        "state": "active" if running else "deactivated",
        "covered_until": until[6] if until else None,
        "days_left": max(0, (until[1] - now).days) if until else 0,
        "running": _brief(running, "running") if running else None,
        "scheduled": [_brief(code, "scheduled") for code in scheduled],
        "created_at": record["created_at"],
    }


def unit_status(key: str, hardware_id: str) -> bytes | None:
    """The JSON body of the unit-status call for the caller holding this token key, or None when
    the cache cannot answer it (unknown or disabled key, no such unit in the caller's part of the
    network): the API view then answers as for any other call, with its 401 or 404.

    One cache round trip when warm (the token entry, the record and the versions they are
    checked against), and no query; not even the round trip when this process's local tier
    holds them (`cms.hotcache`, "the per-process tier")."""
    if changes_pending():  # this transaction changed what entries hold: the API's own path answers
        return None
    key_hash = ApiToken.hash_key(key)
    tier = local_tier()
    if tier is not None:
        who = (settings.KEYLINE_HOT_CACHE_NAMESPACE, key_hash)
        if (found := tier.get(hardware_id, who)) is not None:
            return _answer(found[1], found[2])
        generation = tier.generation  # before the cache is read (LocalTier.put)
    token_entry, unit_entry = token_key(key_hash), cover_key(hardware_id)
    unit_version, accounts_version, logins_version = (
        unit_version_key(hardware_id), accounts_version_key(), logins_version_key()
    )
    got = cache.get_many([token_entry, unit_entry, unit_version, accounts_version, logins_version])
    current = versions_current(got, [unit_version, accounts_version, logins_version])
    if current is None:
        return None
    unit_now, accounts_now, logins_now = current
    token = token_record(key, cached=got.get(token_entry), versions=(accounts_now, logins_now))
    if token is None:
        return None
    provider_path = token["account_path"][: Account.steplen]
    versions = (unit_now, accounts_now)
    records = got.get(unit_entry) or {}
    record = records.get(provider_path)
    if record is None or record["versions"] != versions:
        unit = _visible_unit(token, hardware_id)
        if unit is None:
            return None
        record = cover_record(unit, versions=versions)
        records = {path: kept for path, kept in records.items() if kept["versions"] == versions}
        records[provider_path] = record
        cache.set(unit_entry, records, settings.KEYLINE_COVER_CACHE_SECONDS)
    if tier is not None:
        tier.put(generation, hardware_id, who, token, record)
    return _answer(token, record)


def _answer(token: dict, record: dict) -> bytes | None:
    if token["account_depth"] > 1 and not record["owner_path"].startswith(token["account_path"]):
        return None  # another branch's unit: the API's own 404
    return _render(cover_answer(record, timezone.now()))


# --- a backstop for writes outside the services (see cms.hotcache) -----------------------------


def _unit_saved(sender, instance, **kwargs):
    units_changed([instance.hardware_id])


def _unit_saving(sender, instance, raw=False, **kwargs):
    if instance.pk is not None and not raw:  # an edited hardware id: the old one's record goes too
        before = Unit.objects.filter(pk=instance.pk).values_list("hardware_id", flat=True).first()
        if before is not None and before != instance.hardware_id:
            units_changed([before])


def connect_receivers() -> None:
    from django.db.models.signals import post_delete, post_save, pre_save

    pre_save.connect(_unit_saving, sender=Unit, dispatch_uid="hotcache-unit-before")
    for signal in (post_save, post_delete):
        signal.connect(_unit_saved, sender=Unit, dispatch_uid="hotcache-unit")
