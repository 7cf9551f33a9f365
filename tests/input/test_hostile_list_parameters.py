"""Every list, on a page or in the API, answers hostile query parameters without a server error.

The lists are found in the URL resolver (as the isolation walk finds every URL): a page built on
`ObjectListView` and every API view whose GET lists. Each is opened with hostile values in each
parameter it reads: its filters (read from its own FilterSet, a date range's two halves too), its
page, page size and sort, and for an API list its cursor and page size; a list with an export is
also exported with each of them. No answer may be a server error or show a traceback.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.views import View

from cms.services import account_update
from codes.services import code_attach, code_share
from tests import factories
from tests.input.lists import filter_parameters, list_patterns

#: Values nobody types: huge and negative numbers, no numbers, NUL bytes, a very long text,
#: impossible dates, choices that do not exist, and what a database or a parser may choke on.
HOSTILE = [
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "1e309",
    "12\x003",
    "x" * 5000,
    "not-a-choice",
    *(DAYS := ["9999-12-31", "0001-01-01", "0000-00-00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]),
]

#: What every page list reads besides its filters.
PAGE_PARAMETERS = ["page", "per_page", "sort"]
#: What every API list reads besides its filters.
API_PARAMETERS = ["cursor", "page_size"]


@pytest.fixture
def full_network(network):
    """Every list has rows: codes held at each level, one running on a unit, their audit entries.
    The provider's users live 14 hours ahead of UTC, North's 11 hours behind: the first and the
    last day of the calendar begin or end outside of it in UTC."""
    admin = network.provider_admin
    account_update(actor=admin, account=network.provider, name=network.provider.name, time_zone="Pacific/Kiritimati")
    account_update(actor=admin, account=network.north, name=network.north.name, time_zone="Pacific/Pago_Pago")
    codes = factories.codes(admin, quantity=4)
    unit = factories.unit(network.harvest, actor=admin, name="Harvest Tractor", hardware_id="350000000000001")
    code_attach(code=codes[0], unit=unit, actor=admin)
    code_share(code=codes[1], to_account=network.north, actor=admin)
    return network


def _answer_problem(response) -> str | None:
    """What is wrong with an answer: a server error, or a traceback in what it shows."""
    try:
        body = b"".join(response.streaming_content) if response.streaming else response.content
    except Exception as error:  # a streamed export failing after its first bytes
        return f"the stream failed: {error!r}"
    if response.status_code >= 500:
        return f"{response.status_code}"
    if b"Traceback" in body:
        return "a traceback in the answer"
    return None


def test_the_walk_finds_the_page_lists_and_the_api_lists():
    names = {name for name, _api, _view in list_patterns()}
    assert {"codes:list", "units:list", "report:list", "batches:list"} <= names
    assert {"api:code-list", "api:unit-list", "api:batch-list", "api:account-list", "api:event-list"} <= names
    assert all(isinstance(view, type) and issubclass(view, View) for _name, _api, view in list_patterns())


@pytest.mark.parametrize(("name", "is_api", "view_class"), list_patterns(), ids=lambda v: v if isinstance(v, str) else "")
def test_given_hostile_parameters_then_the_list_answers_without_a_server_error(full_network, name, is_api, view_class):
    # The provider's admin tries every value; North's admin, on the other side of UTC, the days in
    # the filters.
    problems = []
    for user, values in ((full_network.provider_admin, HOSTILE), (full_network.north_admin, DAYS)):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        url = reverse(name)
        parameters = filter_parameters(view_class, user)
        if values is HOSTILE:
            parameters = (API_PARAMETERS if is_api else PAGE_PARAMETERS) + parameters
        # An export reads the filters and the sort as the page does, and writes its rows in either format.
        exports = [""] if is_api or not view_class.export_columns else ["", "csv"]
        for parameter in parameters:
            for value in values:
                for export in exports if parameter not in ("page", "per_page") else [""]:
                    query = {parameter: value, **({"export": export} if export else {})}
                    # Each request alone: on PostgreSQL a failed statement would spoil the next ones.
                    savepoint = transaction.savepoint()
                    try:
                        problem = _answer_problem(client.get(url, query))
                    finally:
                        transaction.savepoint_rollback(savepoint)
                    if problem:
                        problems.append(f"{user.username} {parameter}={value[:30]!r} {export}: {problem}")
    assert not problems, "\n".join(problems)
