"""The window's tables render their rows and header cells in one pass (`cms.table_body`, issue
7), and that pass writes exactly what django-tables2's own per-cell template writes for the same
rows: every table of the product, with every kind of cell (links, badges, times in the account's
time zone, masked codes, empty cells) and every header (sort links keeping the filter, the
current sort's marks), in two languages."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from cms.table_body import render_body, render_head

EVERY_STATE = "&".join(f"state={s}" for s in ("available", "scheduled", "running", "released", "expired", "revoked"))

PAGES = [
    ("provider_admin", f"/codes/?{EVERY_STATE}"),
    ("north_admin", f"/codes/?{EVERY_STATE}"),  # codes held above North Sales are masked
    ("provider_admin", "/units/"),
    ("north_admin", "/units/"),
    ("provider_admin", "/batches/"),
    ("provider_admin", "/report/"),
    ("provider_admin", "/accounts/users/"),
]
# Headers also under a sort (its column marked, its link reversed) and a filter the links keep.
HEADER_PAGES = [
    *PAGES,
    ("provider_admin", "/codes/?state=running&state=available&sort=-expires_at&per_page=25"),
    ("north_admin", "/units/?q=a%20%26%20b&sort=name"),
]


def stock_html(table, request=None) -> str:
    request = request or RequestFactory().get("/")
    return render_to_string("django_tables2/bootstrap5.html", {"table": table, "request": request})


def stock_body(table) -> str:
    """The `<tbody>` that django-tables2's bootstrap5 template writes, cell by cell."""
    return re.search(r"<tbody[^>]*>(.*)</tbody>", stock_html(table), re.S).group(1)


def stock_head(table) -> str:
    """The header cells that the bootstrap5 template writes, column by column."""
    return re.search(r"<thead[^>]*>\s*<tr>(.*)</tr>\s*</thead>", stock_html(table, table.request), re.S).group(1)


def normalized(html: str) -> str:
    # The stock template indents its rows; the cells' contents are written without any space.
    return re.sub(r">\s+<", "><", html).strip()


def normalized_head(html: str) -> str:
    # The stock template also indents a header's text inside its cell.
    return re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html)).strip()


def page_and_table(window, signed_in, who, url, language):
    """The page as `who` sees it in `language`, and the table it rendered."""
    client = signed_in(getattr(window.network, who))
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, response.context["table"]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("who", "url"), PAGES)
def test_every_table_renders_the_same_rows_in_one_pass_as_cell_by_cell(window, signed_in, who, url, language):
    response, table = page_and_table(window, signed_in, who, url, language)
    assert len(table.page.object_list) >= 2, "a page with rows is needed to compare them"
    with translation.override(language):
        one_pass, stock = render_body(table), stock_body(table)
    assert normalized(one_pass) == normalized(stock)
    # And the page itself carries the one-pass rows.
    assert normalized(one_pass) in normalized(response.content.decode())


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("who", "url"), HEADER_PAGES)
def test_every_table_writes_the_same_header_in_one_pass_as_column_by_column(window, signed_in, who, url, language):
    response, table = page_and_table(window, signed_in, who, url, language)
    with translation.override(language):
        one_pass, stock = render_head(table), stock_head(table)
    assert normalized_head(one_pass) == normalized_head(stock)
    assert 'href="?' in one_pass, "the sort links are compared too"
    assert normalized_head(one_pass) in normalized_head(response.content.decode())


def test_an_empty_page_shows_the_tables_empty_text(window, signed_in):
    client = signed_in(window.network.provider_admin)
    response = client.get("/codes/?q=NO-SUCH-CODE-ANYWHERE")
    table = response.context["table"]
    assert normalized(render_body(table)) == normalized(stock_body(table))
    assert "No rows match the filter." in response.content.decode()


def test_a_render_methods_arguments_are_read_once_per_function_and_are_those_django_tables2_reads():
    import django_tables2 as tables
    from django_tables2.utils import signature

    from cms.table_body import _render_signature

    class Renders:
        def render_value_and_record(self, value, record):
            pass

        def render_anything(self, **kwargs):
            pass

        @classmethod
        def render_on_the_class(cls, value):
            pass

        @staticmethod
        def render_static(record):
            pass

    renders = [Renders().render_value_and_record, Renders().render_anything, Renders.render_on_the_class,
               Renders().render_static, tables.Column().render, tables.DateTimeColumn().render]
    assert [_render_signature(render) for render in renders] == [signature(render) for render in renders]
