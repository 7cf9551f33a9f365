"""A code's text has one index on PostgreSQL, its unique one, in collation "C" (migration 0009):
it finds a code by its text, serves the window's prefix search and its sort by code. A second
index for LIKE would only cost every code written."""

import pytest
from django.db import connection

from codes.models import Code
from tests import factories

pytestmark = pytest.mark.postgres


def indexes_on_text() -> list[tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indisunique FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = 'codes_code'::regclass AND a.attname = 'text'
            """
        )
        return cursor.fetchall()


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's table is tiny: ask for the index
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    return queryset.explain()


def test_the_codes_text_has_one_index_and_it_is_unique(db):
    (name, unique), *others = indexes_on_text()
    assert unique and others == []


def test_finding_a_code_searching_by_prefix_and_sorting_by_code_each_read_that_index(network):
    codes = factories.codes(network.provider_admin, quantity=5, period_days=30)
    (index, _unique), = indexes_on_text()
    text = codes[0].text

    assert index in plan(Code.objects.filter(text=text))
    prefix = plan(Code.objects.filter(text__startswith=text[:6]))
    assert index in prefix and "Index Cond: " in prefix and f">= '{text[:6]}'" in prefix  # a range, not a full scan
    by_code = plan(Code.objects.order_by("text")[:3])
    assert index in by_code and "Sort" not in by_code


def test_codes_sort_by_their_text_as_python_sorts_it(network):
    codes = factories.codes(network.provider_admin, quantity=20, period_days=30)

    assert list(Code.objects.order_by("text").values_list("text", flat=True)) == sorted(c.text for c in codes)
