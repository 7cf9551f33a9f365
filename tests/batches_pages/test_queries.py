"""Query counts of the Batches pages are pinned (tests/ui/expected_query_counts.json)."""

from django.urls import reverse

from tests import factories
from tests.units_pages.test_queries import count_queries, expected


def test_given_few_or_many_batches_when_listing_then_the_query_count_is_the_pinned_one(client, network):
    client.force_login(network.provider_admin)
    factories.batch(network.provider_admin, quantity=2)
    few = count_queries(client, reverse("batches:list"), {"per_page": 100})
    for _ in range(10):
        factories.batch(network.provider_admin, quantity=1)
    many = count_queries(client, reverse("batches:list"), {"per_page": 100})
    assert few == many == expected("batches")


def test_given_a_batch_when_opened_then_the_query_count_is_the_pinned_one(client, network):
    client.force_login(network.provider_admin)
    small = factories.batch(network.provider_admin, quantity=2)
    large = factories.batch(network.provider_admin, quantity=40)
    assert count_queries(client, reverse("batches:detail", args=[small.pk])) == expected("batch_detail")
    assert count_queries(client, reverse("batches:detail", args=[large.pk])) == expected("batch_detail")
