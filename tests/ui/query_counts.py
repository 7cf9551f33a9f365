"""Pinned query counts of the window's pages, so an N+1 regression fails (as NetBox does).

`expected_query_counts.json` (next to this file) maps a page name to the number of SQL queries
one request of that page makes, everything included (user, filter choices, rows; the session
comes from the cache, see `SESSION_ENGINE`), with the response body fully rendered or streamed. Usage in a test:

    from tests.ui.query_counts import assert_page_queries, assert_queries_do_not_grow

    response = assert_page_queries("codes:list", client, "/codes/?per_page=50")
    assert_queries_do_not_grow(client, "/codes/?per_page=50", add_rows=make_more_codes)

A page whose count changes on purpose gets its new number in the JSON file in the same commit,
with the reason in the commit message. Each page must first have rows on it (pin a page with a
full page of rows, not an empty table), and the rows should touch every relation the visible
columns show, so a missing `select_related` shows up.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

EXPECTED_FILE = Path(__file__).with_name("expected_query_counts.json")


def expected_count(name: str) -> int:
    expected = json.loads(EXPECTED_FILE.read_text())
    if name not in expected:
        pytest.fail(f'No pinned query count for "{name}": add it to {EXPECTED_FILE.name}.')
    return int(expected[name])


def _consume(response) -> None:
    """Render or stream the whole body, so queries made while streaming are counted too."""
    if getattr(response, "streaming", False):
        # Kept for the test: a stream can be read once (tests.ui.helpers.streamed reads it).
        response.consumed_content = b"".join(response.streaming_content)
    else:
        response.content  # noqa: B018  (a TemplateResponse renders lazily)


def page_queries(client, url: str, method: str = "get", **kwargs):
    """Request a page; return (response, the captured queries)."""
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
        _consume(response)
    return response, captured


def _listing(captured) -> str:
    return "\n".join(f"  {i + 1}. {q['sql'][:300]}" for i, q in enumerate(captured.captured_queries))


def assert_page_queries(name: str, client, url: str, method: str = "get", **kwargs):
    """Request the page and fail unless it makes exactly the pinned number of queries."""
    response, captured = page_queries(client, url, method, **kwargs)
    assert response.status_code < 400, f"{url} answered {response.status_code}"
    expected = expected_count(name)
    if len(captured) != expected:
        pytest.fail(
            f'"{name}" ({url}) made {len(captured)} queries, {expected} are pinned in '
            f"{EXPECTED_FILE.name}:\n{_listing(captured)}"
        )
    return response


def assert_queries_do_not_grow(client, url: str, add_rows: Callable[[], None], method: str = "get", **kwargs) -> int:
    """Count the page's queries, call `add_rows()` (more rows, on more relations), count again:
    the two counts must be equal. Returns the count."""
    before_response, before = page_queries(client, url, method, **kwargs)
    add_rows()
    after_response, after = page_queries(client, url, method, **kwargs)
    assert before_response.status_code < 400 and after_response.status_code < 400
    if len(after) != len(before):
        pytest.fail(
            f"{url}: {len(before)} queries before adding rows, {len(after)} after (N+1?):\n{_listing(after)}"
        )
    return len(after)
