"""Two browsers confirm the same code at the same moment, on PostgreSQL: exactly one wins, the
other is told the code has already been used (invariant 6)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from audit.models import Action, Event
from codes.models import Code

from .conftest import check, confirm_data


def confirm_in_thread(client, data, barrier, results, key):
    try:
        barrier.wait(timeout=10)
        results[key] = client.post("/redeem/", data)
    except Exception as error:  # reported by the test, not lost in the thread
        results[key] = error
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_unit", [False, True])
def test_given_two_browsers_confirming_one_code_at_once_then_exactly_one_wins(shop, same_unit, settings):
    settings.KEYLINE_REDEEM_RATE_HARDWARE_ID = "100/15m"  # three rounds on one unit: not what this tests
    for code in shop.codes[:3]:
        first, second = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
        a = confirm_data(check(first, code.text, shop.unit.hardware_id))
        b = confirm_data(check(second, code.text, (shop.unit if same_unit else shop.other_unit).hardware_id))
        barrier, results = threading.Barrier(2), {}
        threads = [
            threading.Thread(target=confirm_in_thread, args=(first, a, barrier, results, "a")),
            threading.Thread(target=confirm_in_thread, args=(second, b, barrier, results, "b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        statuses = sorted(r.status_code if hasattr(r, "status_code") else repr(r) for r in results.values())
        assert statuses == [302, 409], statuses
        loser = next(r for r in results.values() if r.status_code == 409)
        assert "This code has already been used." in loser.content.decode()
        assert Event.objects.filter(action=Action.REDEEMED, code=code).count() == 1
        refused = Event.objects.get(action=Action.REDEEM_REFUSED, code=code)
        assert refused.details["reason"] == "code_already_used"
        assert Code.objects.get(pk=code.pk).unit_id in (shop.unit.pk, shop.other_unit.pk)
