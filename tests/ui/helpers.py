"""Reading the window's pages in tests: which rows a list page shows (in order), what an export
contains, which bulk buttons a user gets. Shared by the tests of every list page."""

import csv
import io
from html.parser import HTMLParser

from openpyxl import load_workbook


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.row_pks: list[int] = []
        self.bulk_buttons: dict[str, str] = {}  # data-testid -> formaction
        self.testids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "input" and "js-select-row" in classes:
            self.row_pks.append(int(attrs["value"]))
        if attrs.get("data-testid"):
            self.testids.add(attrs["data-testid"])
        if tag == "button" and (attrs.get("data-testid") or "").startswith("bulk-") and attrs.get("formaction"):
            self.bulk_buttons[attrs["data-testid"]] = attrs["formaction"]


def _parse(response) -> _Inputs:
    parser = _Inputs()
    parser.feed(response.content.decode())
    return parser


def row_pks(response) -> list[int]:
    """The ids of the rows a list page shows, in the order shown (from the selection checkboxes)."""
    return _parse(response).row_pks


def bulk_buttons(response) -> dict[str, str]:
    """The bulk-action buttons of a list page: data-testid -> the URL they post to."""
    return _parse(response).bulk_buttons


def data_testids(response) -> set[str]:
    return _parse(response).testids


def streamed(response) -> bytes:
    """The whole body of a (possibly streaming) response; read once, then kept."""
    if getattr(response, "consumed_content", None) is None:
        response.consumed_content = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
    return response.consumed_content


def csv_rows(response) -> list[dict[str, str]]:
    """A CSV export as one dict per row, keyed by the header."""
    return list(csv.DictReader(io.StringIO(streamed(response).decode("utf-8"))))


def xlsx_rows(response) -> list[dict[str, object]]:
    """An XLSX export (first sheet) as one dict per row, keyed by the header row."""
    workbook = load_workbook(io.BytesIO(streamed(response)), read_only=True)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]
