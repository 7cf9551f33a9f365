"""Every bulk action, and every API call that takes a list, refuses a request that smuggles in
ids of foreign codes, units, accounts or users: the whole request is refused and nothing
changes. The bulk actions are found in the URL map, so a new one is covered automatically."""

import json

import pytest
from django.urls import reverse

from audit.models import Event
from cms.models import Account, User
from cms.web.views import BulkActionView
from codes.models import Batch, Code, ExpiryNotice
from units.models import Unit

from .walker import url_patterns
from .world import snapshot

#: The rows of a bulk action's list that belong to somebody else, by model.
FOREIGN = {
    Code: lambda w: [w["acme"].code, w["rival"].code, w["rival"].running],
    Unit: lambda w: [w["acme"].unit, w["rival"].unit],
    User: lambda w: [w["acme"].admin, w["rival"].admin],
    Account: lambda w: [w["acme"].account, w["rival"].account],
    Batch: lambda w: [w["rival"].batch],
    ExpiryNotice: lambda w: [w["acme"].notice, w["rival"].notice],
    Event: lambda w: [w["rival"].event],
}


def bulk_patterns():
    found = []
    for pattern in url_patterns():
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is not None and issubclass(view_class, BulkActionView):
            found.append(pattern)
    return found


def test_the_app_has_bulk_actions_to_check():
    names = {p.name for p in bulk_patterns()}
    assert {"codes:bulk_share", "codes:bulk_release", "accounts:users_disable"} <= names


def bulk_viewer(world, pattern):
    """North Sales' admin (rows of its own, foreign ones beside and above), or the provider's
    admin for actions only a provider's admin may take."""
    if pattern.callback.view_class.needs_provider_admin:
        return User.objects.get(pk=world.network.provider_admin.pk)
    return world.viewers["parent"]


def own_rows(viewer, pattern, request_factory):
    view_class = pattern.callback.view_class
    request = request_factory.get("/")
    request.user = viewer
    list_view = view_class.list_view_class()
    list_view.setup(request)
    return list_view.get_base_queryset()


def foreign_form_fields(w) -> dict:
    """Form fields of bulk actions, pointed at foreign objects."""
    account = w["rival"].account.pk
    return {
        "account": account, "to_account": account, "holder": account, "owner": account, "new_parent": account,
        "unit": w["rival"].unit.pk, "user": w["rival"].admin.pk, "period_days": 30,
        "pair": [f"{w['north'].unit.pk}:{w['rival'].code.pk}"],
    }


@pytest.mark.parametrize("pattern", bulk_patterns(), ids=lambda p: p.name)
def test_given_foreign_ids_among_the_selection_then_the_whole_request_is_refused(world, client, rf, pattern):
    viewer = bulk_viewer(world, pattern)
    model = own_rows(viewer, pattern, rf).model
    if model not in FOREIGN:
        pytest.fail(f"{pattern.name} acts on {model.__name__}: add its foreign rows to FOREIGN in {__file__}")
    own = list(own_rows(viewer, pattern, rf).order_by("pk").values_list("pk", flat=True)[:3])
    assert own, f"the test data gives North Sales no rows for {pattern.name}"
    client.force_login(viewer)
    url = reverse(pattern.name)
    before = snapshot()
    visible = set(own_rows(viewer, pattern, rf).values_list("pk", flat=True))
    for foreign in [o for o in FOREIGN[model](world) if o.pk not in visible]:
        for step in ({}, {"_confirm": "1"}, {"_pair": "1"}):
            data = {"pk": [*own, foreign.pk], "_return": "/", **step, **foreign_form_fields(world)}
            response = client.post(url, data)
            assert response.status_code == 404, f"{pattern.name} with foreign {model.__name__} #{foreign.pk}"
    assert snapshot() == before


@pytest.mark.parametrize("pattern", bulk_patterns(), ids=lambda p: p.name)
def test_given_all_rows_matching_a_filter_on_foreign_ids_then_no_foreign_row_is_touched(world, client, pattern):
    viewer = bulk_viewer(world, pattern)
    client.force_login(viewer)
    rival, acme = world["rival"], world["acme"]
    before = {k: v for k, v in snapshot().items() if k != "events"}
    for query in (f"holder={rival.account.pk}", f"account={rival.account.pk}", f"owner={acme.account.pk}",
                  f"unit={rival.unit.pk}", f"batch={rival.batch.pk}", f"q={rival.unit.hardware_id}"):
        client.post(reverse(pattern.name), {"_all": "1", "_query": query, "_confirm": "1", "_return": "/",
                                            **foreign_form_fields(world)})
    after = {k: v for k, v in snapshot().items() if k != "events"}
    foreign_codes = {c.pk for c in FOREIGN[Code](world)}
    foreign_units = {u.pk for u in FOREIGN[Unit](world)}
    foreign_users = {u.pk for u in FOREIGN[User](world)}
    assert [c for c in after["codes"] if c["id"] in foreign_codes] == [
        c for c in before["codes"] if c["id"] in foreign_codes
    ]
    assert [u for u in after["units"] if u["id"] in foreign_units] == [
        u for u in before["units"] if u["id"] in foreign_units
    ]
    assert [u for u in after["users"] if u["pk"] in foreign_users] == [
        u for u in before["users"] if u["pk"] in foreign_users
    ]
    assert after["accounts"] == before["accounts"]


def test_given_own_codes_shared_to_a_foreign_account_then_refused_and_nothing_changes(world, client):
    viewer = world.viewers["parent"]
    client.force_login(viewer)
    before = snapshot()
    own = world["north"].code
    for target in (world["rival"].account, world["acme"].account, world.network.south):
        response = client.post(reverse("codes:bulk_share"), {"pk": [own.pk], "_confirm": "1", "account": target.pk})
        assert response.status_code != 302  # the confirmation page again, with the form's error
        assert target.name not in response.content.decode() or target.pk == world.network.provider.pk
    assert snapshot() == before


class TestApiLists:
    """The API's bulk calls name codes by their text: one foreign code refuses them all."""

    @pytest.mark.parametrize("name", ["api:code-share", "api:code-recall"])
    def test_given_a_foreign_code_among_own_ones_then_all_refused(self, world, client, name):
        viewer = world.viewers["parent"]
        client.force_login(viewer)
        before = snapshot()
        own = [world["north"].code.display_text, world["farms"].code.display_text]
        for foreign in (world["rival"].code, world["acme"].code, world["acme"].running):
            body = {"codes": [*own, foreign.display_text], "account": world.network.north_farms.pk}
            response = client.post(reverse(name), data=json.dumps(body), content_type="application/json")
            assert 400 <= response.status_code < 500, response.content
            text = response.content.decode()
            assert foreign.unit_id is None or foreign.unit.hardware_id not in text
        assert snapshot() == before

    def test_given_a_foreign_account_as_target_then_refused(self, world, client):
        client.force_login(world.viewers["parent"])
        before = snapshot()
        body = {"codes": [world["north"].code.display_text], "account": world["rival"].account.pk}
        response = client.post(reverse("api:code-share"), data=json.dumps(body), content_type="application/json")
        assert 400 <= response.status_code < 500
        assert "Rival" not in response.content.decode()
        assert snapshot() == before

    def test_given_a_foreign_unit_to_attach_to_then_refused(self, world, client):
        client.force_login(world.viewers["parent"])
        before = snapshot()
        url = reverse("api:code-attach", kwargs={"code": world["north"].code.text})
        for unit in (world["rival"].unit, world["acme"].unit):
            response = client.post(url, data=json.dumps({"unit": unit.hardware_id}), content_type="application/json")
            assert 400 <= response.status_code < 500
            assert unit.name not in response.content.decode()
        assert snapshot() == before
