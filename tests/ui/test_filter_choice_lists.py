"""The windows' filter lists (batches, owners, accounts) are read with one plain query each.

Django reads a model choice list through `QuerySet.iterator()`, which on PostgreSQL opens a
server-side cursor: DECLARE, FETCH and CLOSE, three round trips and a WITH HOLD cursor for a
list of a few dozen rows, on every page view (`cms.filter_widgets.ListedChoices`)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.postgres

WINDOWS = [("codes:list", "batch"), ("units:list", "owner"), ("report:list", "account"), ("accounts:users", "account")]


@pytest.mark.parametrize(("url_name", "list_name"), WINDOWS)
def test_a_windows_filter_list_opens_no_server_side_cursor(network, client, url_name, list_name):
    factories.batch(network.provider_admin, quantity=2)
    factories.unit(network.harvest, actor=network.provider_admin)
    client.force_login(network.provider_admin)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(url_name))

    assert response.status_code == 200
    offered = [value for value, _label in response.context["filter"].form.fields[list_name].choices if value]
    assert offered, f"the {list_name} list offers something"
    cursors = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("DECLARE")]
    assert not cursors, cursors
