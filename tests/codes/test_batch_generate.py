"""batch_generate / batch_fill: new codes, held by the provider, only by its admins."""

from datetime import date
from decimal import Decimal

import pytest

from audit.models import Action, Event
from cms.errors import DomainError
from codes import text as code_text
from codes.models import Batch, Code, CodeState
from codes.services import batch_fill, batch_generate
from tests.domain.support import T0, snapshot


def generate(actor, **overrides):
    terms = {"quantity": 5, "period_days": 30, "unit_price": "12.50", "currency": "eur", "background": False}
    terms.update(overrides)
    return batch_generate(actor=actor, **terms)


def test_given_a_provider_admin_then_the_batch_is_filled_with_available_codes_held_by_the_provider(network, clock):
    batch = generate(network.provider_admin, use_by=date(2027, 12, 31), note="spring promo")

    assert batch.status == Batch.Status.READY
    assert (batch.generated_count, batch.quantity) == (5, 5)
    assert (batch.unit_price, batch.currency) == (Decimal("12.50"), "EUR")
    codes = list(batch.codes.all())
    assert len(codes) == 5
    for code in codes:
        assert code.holder_id == code.provider_id == network.provider.pk
        assert code.status == CodeState.AVAILABLE
        assert (code.period_days, code.use_by) == (30, date(2027, 12, 31))
        assert code_text.is_well_formed(code.text)
    events = Event.objects.filter(action=Action.GENERATED, batch=batch)
    assert events.count() == 5
    assert {e.actor_id for e in events} == {network.provider_admin.pk}
    assert {e.occurred_at for e in events} == {T0}


@pytest.mark.parametrize("who", ["provider_operator", "provider_viewer", "north_admin", "harvest_user"])
def test_given_anyone_but_a_provider_admin_then_refused(network, clock, who):
    before = snapshot()
    with pytest.raises(DomainError) as error:
        generate(getattr(network, who))
    assert error.value.code == "permission_denied"
    assert snapshot() == before
    assert not Batch.objects.exists()


def test_given_invalid_terms_then_every_problem_is_listed_and_nothing_is_created(network, clock):
    with pytest.raises(DomainError) as error:
        generate(network.provider_admin, quantity=0, period_days=0, unit_price="-1", currency="euro",
                 use_by=date(2027, 2, 1))
    assert error.value.code == "validation_error"
    assert [r.item for r in error.value.refusals] == ["quantity", "period_days", "unit_price", "currency", "use_by"]
    assert not Batch.objects.exists() and not Code.objects.exists()


def test_given_a_large_batch_then_it_is_filled_by_a_task_sent_after_commit(network, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = generate(network.provider_admin, quantity=12, background=True)
    assert len(callbacks) == 1
    assert batch.status == Batch.Status.GENERATING and batch.codes.count() == 0

    # What the task does (it is a thin wrapper): fill in chunks, resumable, idempotent.
    batch_fill(batch_id=batch.pk, chunk_size=5)
    batch_fill(batch_id=batch.pk, chunk_size=5)

    batch.refresh_from_db()
    assert (batch.status, batch.generated_count, batch.codes.count()) == (Batch.Status.READY, 12, 12)
    assert Event.objects.filter(action=Action.GENERATED, batch=batch).count() == 12


def test_given_a_generated_text_that_already_exists_then_the_chunk_is_generated_again(network, clock, monkeypatch):
    existing = generate(network.provider_admin, quantity=1).codes.get()
    real = code_text.generate
    clashes = iter([existing.text])
    monkeypatch.setattr(code_text, "generate", lambda: next(clashes, None) or real())

    batch = generate(network.provider_admin, quantity=4, use_by=date(2027, 12, 31))

    codes = list(batch.codes.all())
    assert batch.status == Batch.Status.READY and batch.generated_count == 4 and len(codes) == 4
    assert existing.text not in {c.text for c in codes}
    assert all((c.status, c.holder_id, c.use_by) == (CodeState.AVAILABLE, network.provider.pk, date(2027, 12, 31))
               for c in codes)
    events = Event.objects.filter(action=Action.GENERATED, batch=batch)
    assert sorted(e.code_id for e in events) == sorted(c.pk for c in codes)
    assert Code.objects.filter(text=existing.text).count() == 1
