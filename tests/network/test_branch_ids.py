"""`cms.selectors.branch_ids`: a branch's accounts named by their ids (so the planner can read
its statistics), or by a subquery when the branch is large; either way the same codes show."""

from cms import selectors
from cms.models import User
from codes.selectors import codes_visible_to
from tests import factories


def test_a_branch_is_its_account_and_everything_below_with_the_provider_beside_it(network):
    provider_id, ids = selectors.branch_ids(network.north)
    assert provider_id == network.provider.pk
    assert sorted(ids) == sorted([network.north.pk, network.north_farms.pk, network.harvest.pk])
    acme = [network.provider, network.north, network.north_farms, network.harvest, network.south, network.south_rentals]
    provider_id, ids = selectors.branch_ids(network.provider)
    assert (provider_id, sorted(ids)) == (network.provider.pk, sorted(a.pk for a in acme))


def test_a_branch_larger_than_the_limit_is_named_by_a_subquery_and_shows_the_same_codes(network, monkeypatch):
    admin = network.provider_admin
    codes = factories.codes(admin, quantity=3)
    from codes.services import codes_share

    codes_share(codes=codes[:2], to_account=network.north_farms, actor=admin)
    codes_share(codes=codes[2:], to_account=network.south, actor=admin)

    def visible():
        user = User.objects.select_related("account").get(pk=network.north_admin.pk)  # a fresh account object
        return set(codes_visible_to(user).values_list("pk", flat=True))

    by_ids = visible()
    monkeypatch.setattr(selectors, "BRANCH_IDS_LIMIT", 1)
    assert selectors.branch_ids(User.objects.get(pk=network.north_admin.pk).account)[1] is None
    assert visible() == by_ids == {codes[0].pk, codes[1].pk}
