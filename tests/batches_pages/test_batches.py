"""The Batches pages: who sees which batch, its codes by state, generating (in the request or in
the background with a progress bar), and downloading its codes."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse

from cms.celery import app as celery_app
from codes.batch_selectors import batch_state_counts
from codes.models import Batch, Code
from codes.services import batch_fill, code_attach, code_revoke, code_share
from tests import factories

LIST = reverse("batches:list")
GENERATE = reverse("batches:generate")


def listed(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


@pytest.fixture
def batches(network):
    """Acme: a 30-day batch (one code shared to North, one running on a unit, one revoked) and
    a 365-day batch kept at the provider. Rival has its own batch."""
    admin = network.provider_admin
    monthly = factories.batch(admin, quantity=5, period_days=30)
    yearly = factories.batch(admin, quantity=3, period_days=365)
    rival = factories.batch(network.rival_admin, quantity=2, period_days=30)
    codes = list(monthly.codes.order_by("pk"))
    code_share(code=codes[0], to_account=network.north, actor=admin)
    unit = factories.unit(network.south_rentals, admin)
    code_attach(code=codes[1], unit=unit, actor=admin)
    code_revoke(code=codes[2], actor=admin)
    return {"monthly": monthly, "yearly": yearly, "rival": rival}


def test_given_a_provider_user_when_listing_then_its_batches_show_and_not_another_providers(client, network, batches):
    client.force_login(network.provider_viewer)
    response = client.get(LIST)
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted([batches["monthly"].pk, batches["yearly"].pk])


def test_given_an_anonymous_visitor_when_opening_batches_then_sent_to_sign_in(client, batches):
    pk = batches["monthly"].pk
    for url in (LIST, GENERATE, *(reverse(f"batches:{name}", args=[pk]) for name in ("detail", "progress", "download"))):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_given_filters_and_sort_when_applied_then_rows_follow(client, network, batches):
    client.force_login(network.provider_admin)
    assert listed(client.get(LIST, {"period_days": 365})) == [batches["yearly"].pk]
    assert listed(client.get(LIST, {"sort": "quantity"})) == [batches["yearly"].pk, batches["monthly"].pk]
    assert listed(client.get(LIST, {"sort": "-quantity"})) == [batches["monthly"].pk, batches["yearly"].pk]


def test_given_a_filter_when_exporting_then_exactly_the_filtered_batches_come_out(client, network, batches):
    client.force_login(network.provider_admin)
    response = client.get(LIST, {"period_days": 30, "export": "csv"})
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["Batch"]) for r in exported] == [batches["monthly"].pk]
    assert exported[0]["Quantity"] == "5" and exported[0]["Currency"] == "EUR"


def test_given_a_batch_when_counting_by_state_then_one_query_counts_every_state(
    network, batches, django_assert_num_queries
):
    with django_assert_num_queries(1):
        counts = batch_state_counts(user=network.provider_admin, batch=batches["monthly"])
    assert counts == {"available": 3, "scheduled": 0, "running": 1, "released": 0, "expired": 0, "revoked": 1}


def test_given_the_batch_page_then_counts_by_state_and_the_download_show_to_the_provider(client, network, batches):
    client.force_login(network.provider_viewer)
    response = client.get(reverse("batches:detail", args=[batches["monthly"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="batch-total">5<' in html
    assert reverse("batches:download", args=[batches["monthly"].pk]) in html
    states = {row["state"].value: row["count"] for row in response.context["states"]}
    assert states["running"] == 1 and states["revoked"] == 1 and states["available"] == 3


def test_given_another_providers_batch_when_opened_then_404(client, network, batches):
    client.force_login(network.provider_admin)
    for name in ("detail", "progress", "download"):
        assert client.get(reverse(f"batches:{name}", args=[batches["rival"].pk])).status_code == 404


def test_given_the_provider_when_downloading_then_every_code_of_the_batch_streams_as_csv(client, network, batches):
    client.force_login(network.provider_admin)
    response = client.get(reverse("batches:download", args=[batches["yearly"].pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = sorted(c.display_text for c in batches["yearly"].codes.all())
    assert sorted(r["Code"] for r in exported) == expected
    assert {r["Period (days)"] for r in exported} == {"365"}


# --- generating -------------------------------------------------------------------------------


def form(**overrides):
    data = {"quantity": 25, "period_days": 90, "unit_price": "12.50", "currency": "usd", "use_by": "", "note": "Spring"}
    return data | overrides


def test_given_a_provider_admin_when_generating_a_small_batch_then_it_is_ready_at_once(client, network):
    client.force_login(network.provider_admin)
    response = client.post(GENERATE, form())
    batch = Batch.objects.get(provider=network.provider)
    assert response.status_code == 302 and response.url == reverse("batches:detail", args=[batch.pk])
    assert batch.status == Batch.Status.READY and batch.generated_count == 25
    assert (batch.currency, batch.period_days, str(batch.unit_price), batch.note) == ("USD", 90, "12.50", "Spring")
    assert Code.objects.filter(batch=batch, holder=network.provider).count() == 25


def test_given_a_large_batch_when_generated_then_it_fills_in_the_background_with_visible_progress(
    client, network, settings
):
    settings.KEYLINE_SYNC_BATCH_LIMIT = 10
    client.force_login(network.provider_admin)
    client.post(GENERATE, form(quantity=30))
    batch = Batch.objects.get(provider=network.provider)
    # Not filled in the request: the task is sent after commit (not run here).
    assert batch.status == Batch.Status.GENERATING and batch.generated_count == 0
    page = client.get(reverse("batches:detail", args=[batch.pk])).content.decode()
    progress_url = reverse("batches:progress", args=[batch.pk])
    assert f'hx-get="{progress_url}"' in page and 'hx-trigger="every 1500ms"' in page
    assert reverse("batches:download", args=[batch.pk]) not in page
    polled = client.get(progress_url)
    assert "0 / 30" in polled.content.decode() and "HX-Refresh" not in polled
    # The worker fills it (the task's body), chunk by chunk.
    batch_fill(batch_id=batch.pk, chunk_size=12)
    polled = client.get(progress_url)
    assert "30 / 30" in polled.content.decode()
    assert polled["HX-Refresh"] == "true" and "hx-get" not in polled.content.decode()
    assert Code.objects.filter(batch=batch).count() == 30


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_given_a_large_batch_when_the_task_runs_after_commit_then_the_batch_is_ready(
    client, network, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.KEYLINE_SYNC_BATCH_LIMIT = 10
    client.force_login(network.provider_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(GENERATE, form(quantity=40))
    assert len(callbacks) == 1
    batch = Batch.objects.get(provider=network.provider)
    assert batch.status == Batch.Status.READY and batch.generated_count == 40


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"quantity": 100_001}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"period_days": 0}, "period_days"),
        ({"currency": "EURO"}, "currency"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"use_by": (date.today() - timedelta(days=2)).isoformat()}, "use_by"),
        ({"use_by": "9999-12-31"}, "use_by"),
        ({"note": "Spr\x0bing"}, "note"),
    ],
)
def test_given_bad_terms_when_generating_then_the_field_says_why_and_nothing_is_created(
    client, network, overrides, field
):
    client.force_login(network.provider_admin)
    response = client.post(GENERATE, form(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Batch.objects.exists()


@pytest.mark.parametrize("who", ["provider_operator", "provider_viewer", "north_admin", "harvest_user"])
def test_given_a_user_who_is_not_a_provider_admin_when_generating_then_refused(client, network, who):
    client.force_login(getattr(network, who))
    assert client.get(GENERATE).status_code == 403
    assert client.post(GENERATE, form()).status_code == 403
    assert not Batch.objects.exists()
    assert reverse("batches:generate") not in client.get(LIST).content.decode()
