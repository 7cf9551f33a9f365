"""Isolation, proven by walking every URL pattern of the app.

For each pattern, as a user of another branch, of a child account, of another provider, and
anonymously: arguments are filled with objects outside the user's part of the tree, and every
answer must be a 404 (anonymous: the sign-in redirect, 401 or 403), must leave those objects
unchanged, and must never contain their identifying strings. Patterns without arguments (lists,
exports, searches, forms) are opened with foreign ids in every common filter parameter and
posted with foreign ids in every common field. As the parent account, the same objects are
found (not 404), so the walk also proves it reaches the objects it claims to hide.

A new URL pattern is covered automatically; one with arguments fails the walk until
`tests/isolation/walker.py` says how to fill it.
"""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from cms.models import Account
from codes import text as code_text

from .walker import FILL, ID_PARAMS, PUBLIC, SEEN_FROM_ABOVE, SKIPPED, filter_params, leaked, post, url_patterns
from .world import snapshot

GOOD_PASSWORD = "blue-tractor-meadow-42"

#: Who looks, at which set of objects, and which strings must never reach them.
SCENARIOS = {
    # South Sales looks at the North branch.
    "other_branch": {"targets": "farms", "batch_from": "rival", "secrets": ("farms", "north"), "accounts": True},
    # North Farms Dealer looks up at North Sales and the provider.
    "child": {"targets": "north", "batch_from": "rival", "secrets": ("north", "acme"), "accounts": False},
    # Rival GPS looks at Acme.
    "other_provider": {"targets": "acme", "batch_from": "acme", "secrets": ("acme", "north", "farms"),
                       "accounts": True},
}


def fill(pattern, objects, batch_set) -> dict:
    if pattern.name not in FILL:
        pytest.fail(
            f"URL pattern {pattern.name!r} ({pattern.route}) takes {pattern.arguments} and the isolation walk does "
            f"not know how to fill it: add it to FILL in tests/isolation/walker.py."
        )
    kwargs = {}
    for argument in pattern.arguments:
        kind, attribute = FILL[pattern.name][argument]
        source = batch_set if kind == "batch" else objects
        kwargs[argument] = getattr(source.get(kind), attribute)
    return kwargs


def unknown(pattern) -> dict:
    """Arguments naming objects that do not exist."""
    values = {"pk": 987654321, "text": code_text.generate(), "hardware_id": "350000000000000",
              "uidb64": "OTg3NjU0MzIx", "token": "cxxxxx-guessed"}
    return {argument: values[FILL[pattern.name][argument][1]] for argument in pattern.arguments}


def smuggled_fields(objects, batch_set) -> dict:
    """Every common field name of the app's forms and API bodies, set to a foreign object."""
    account = objects.account.pk
    return {
        "pk": [objects.code.pk, objects.unit.pk, account, objects.admin.pk],
        "_confirm": "1",
        "account": account, "parent": account, "new_parent": account, "to_account": account, "holder": account,
        "owner": account, "customer": account,
        "unit": objects.unit.pk, "units": [objects.unit.pk], "hardware_id": objects.unit.hardware_id,
        "code": objects.code.display_text, "codes": objects.code.display_text, "text": objects.code.display_text,
        "batch": batch_set.batch.pk, "user": objects.admin.pk, "notice": objects.notice.pk,
        "token": objects.token.pk,
    }


def foreign_scope_q(world, scenario):
    net = world.network
    if scenario == "child":
        return {"pk__in": [net.north.pk, net.provider.pk]}
    top = net.north if scenario == "other_branch" else net.provider
    return {"path__startswith": top.path}


def foreign_snapshot(world, scenario) -> dict:
    scope = list(Account.objects.filter(**foreign_scope_q(world, scenario)).values_list("pk", flat=True))
    full = snapshot()
    users_in_scope = {u["pk"] for u in full["users"] if u["account_id"] in scope}
    return {
        "accounts": [a for a in full["accounts"] if a["pk"] in scope],
        "users": [u for u in full["users"] if u["account_id"] in scope],
        "units": [u for u in full["units"] if u["owner_id"] in scope],
        "codes": [c for c in full["codes"] if c["holder_id"] in scope],
        "notices": [n for n in full["notices"] if n["account_id"] in scope],
        "tokens": [t for t in full["tokens"] if t["user_id"] in users_in_scope],
        "batches": [b for b in full["batches"] if b["provider_id"] in scope],
    }


def echo_free(secrets, data) -> list[str]:
    """The secrets, less what the request itself sent (a form may show the input back)."""
    sent = {str(v) for value in data.values() for v in (value if isinstance(value, list) else [value])}
    return [s for s in secrets if s not in sent]


def all_patterns():
    return [p for p in url_patterns() if p.name not in SKIPPED]


def test_the_walk_knows_every_pattern_with_arguments():
    unknown = [p.name for p in all_patterns() if p.arguments and p.name not in FILL]
    assert not unknown, f"add these URL patterns to FILL in tests/isolation/walker.py: {unknown}"
    stale = set(FILL) - {p.name for p in all_patterns()}
    assert not stale, f"FILL names patterns that no longer exist: {stale}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_given_a_user_outside_then_every_url_answers_404_and_shows_nothing(world, client, scenario):
    setup = SCENARIOS[scenario]
    viewer = world.viewers[scenario]
    objects, batch_set = world[setup["targets"]], world[setup["batch_from"]]
    secrets = world.secrets_of(*setup["secrets"], with_accounts=setup["accounts"])
    client.force_login(viewer)
    before = foreign_snapshot(world, scenario)
    problems = []

    for pattern in all_patterns():
        client.force_login(viewer)
        if pattern.arguments:
            # A foreign object must get exactly the answer of an object that does not exist.
            url = reverse(pattern.name, kwargs=fill(pattern, objects, batch_set))
            nowhere = reverse(pattern.name, kwargs=unknown(pattern))
            data = smuggled_fields(objects, batch_set)
            for method in ("GET", "POST"):
                client.force_login(viewer)
                if method == "GET":
                    got, same = client.get(url), client.get(nowhere)
                else:
                    got = post(client, url, data, api=pattern.is_api)
                    same = post(client, nowhere, data, api=pattern.is_api)
                shown = leaked(got, echo_free(secrets, data))
                if pattern.name in PUBLIC and got.status_code == same.status_code and not shown:
                    continue  # a public page: the same answer as for nothing at all
                if got.status_code != same.status_code or 200 <= got.status_code < 300 or shown:
                    problems.append(
                        f"{method} {url} ({pattern.name}): {got.status_code}, unknown object: {same.status_code} {shown}"
                    )
            continue
        try:
            url = reverse(pattern.name)
        except Exception:  # unnamed or not reversible: open the route as written
            url = "/" + pattern.route.lstrip("^").rstrip("$")
        got = client.get(url)
        if got.status_code >= 500 or leaked(got, secrets):
            problems.append(f"GET {url} ({pattern.name}): {got.status_code} {leaked(got, secrets)}")
        if got.status_code == 200:
            queries = [{"export": "csv"}, {"q": objects.account.name}, {"search": objects.account.name}]
            params = filter_params(pattern.callback)
            if params is None:  # a page without a FilterSet may still read parameters: try them all
                params = ID_PARAMS
            queries += [{param: (batch_set.batch if kind == "batch" else objects.get(kind)).pk}
                        for param, kind in params.items()]
            for query in queries:
                answer = client.get(f"{url}?{urlencode(query)}")
                shown = [s for s in leaked(answer, secrets) if s not in query.values()]
                if answer.status_code >= 500 or shown:
                    problems.append(f"GET {url}?{urlencode(query)} ({pattern.name}): {answer.status_code} {shown}")
        client.force_login(viewer)  # the walk also posts to the sign-out page
        data = smuggled_fields(objects, batch_set)
        got = post(client, url, data, api=pattern.is_api)
        if got.status_code >= 500 or leaked(got, echo_free(secrets, data)):
            problems.append(f"POST {url} ({pattern.name}): {got.status_code} {leaked(got, echo_free(secrets, data))}")

    assert not problems, "\n".join(problems)
    assert foreign_snapshot(world, scenario) == before, "a request changed objects outside the user's tree"


def test_given_the_parent_account_then_the_same_objects_are_found(world, client):
    """The walk reaches the objects it hides from others: the parent account does find them."""
    viewer = world.viewers["parent"]
    objects, batch_set = world["farms"], world["acme"]
    client.force_login(viewer)
    before = snapshot()
    problems = []
    for pattern in all_patterns():
        if not pattern.arguments:
            continue
        kinds = {FILL.get(pattern.name, {}).get(a, ("?",))[0] for a in pattern.arguments}
        if not kinds <= SEEN_FROM_ABOVE:
            continue
        url = reverse(pattern.name, kwargs=fill(pattern, objects, batch_set))
        got = client.get(url)
        if got.status_code in (404, 403) or got.status_code >= 500:
            problems.append(f"GET {url} ({pattern.name}): {got.status_code}")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_given_an_anonymous_visitor_then_every_url_asks_to_sign_in(world, client):
    objects = world["acme"]
    secrets = world.secrets_of("acme", "north", "farms", "rival")
    before = snapshot()
    problems = []
    for pattern in all_patterns():
        if pattern.arguments:
            url = reverse(pattern.name, kwargs=fill(pattern, objects, objects))
        else:
            try:
                url = reverse(pattern.name)
            except Exception:
                url = "/" + pattern.route.lstrip("^").rstrip("$")
        for method in ("get", "post"):
            if method == "get":
                got, data = client.get(url), {}
            else:
                data = smuggled_fields(objects, objects)
                got = post(client, url, data, api=pattern.is_api)
            shown = leaked(got, echo_free(secrets, data))
            if shown or got.status_code >= 500:
                problems.append(f"{method.upper()} {url} ({pattern.name}): {got.status_code} {shown}")
                continue
            if pattern.name in PUBLIC:
                continue
            to_login = got.status_code == 302 and got["Location"].startswith(reverse("login"))
            if not (to_login or got.status_code in (401, 403)):
                problems.append(f"{method.upper()} {url} ({pattern.name}): {got.status_code}, not asked to sign in")
    assert not problems, "\n".join(problems)
    assert snapshot()["codes"] == before["codes"] and snapshot()["units"] == before["units"]
