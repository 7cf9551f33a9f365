"""Streaming exports of a filtered queryset, so a million rows never sit in memory at once.

CSV streams row by row from a server-side cursor. XLSX is written by openpyxl's write-only
workbook (rows go straight to a temporary file) and then streamed from that file.

On PostgreSQL, a CSV export whose columns all say how to write their cell in SQL (`ExportColumn.sql`)
is written by the database itself: `COPY (the filtered, sorted query) TO STDOUT WITH (FORMAT csv)`,
streamed as PostgreSQL produces it. Python then handles bytes, not values: no row is loaded,
converted to Python objects, formatted and quoted again (Django's time-zone-aware datetime loader
alone cost a fifth of the Python export). The cells are the same text the Python path writes, byte
for byte (tests/codes_window/test_export_copy.py holds the two paths to that).
"""

import csv
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, CharField, F, Func, IntegerField, TextField, Value, When
from django.db.models.functions import Cast, NullIf
from django.db.models.lookups import Exact, IsNull
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation

CHUNK = 2000
PIECE = 64 * 1024


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]
    #: (value, label) pairs: the column's value is written as its label, translated once per
    #: export rather than once per row (a lazy translation per row cost a third of the export).
    choices: Iterable[tuple[Any, Any]] | None = None
    #: The cell as PostgreSQL writes it for a CSV export: called with an `SqlCells` (the export's
    #: zone and moment), returns an expression giving the cell's text exactly as `value` (and
    #: `choices`) would have it written. Build it with `SqlCells`' helpers, which map an empty
    #: or missing value to NULL (written as nothing, as Python's csv writes "" and None).
    sql: Callable[["SqlCells"], Any] | None = None

    def reader(self) -> Callable[[Any], Any]:
        if self.choices is None:
            return self.value
        labels = {value: str(label) for value, label in self.choices}
        value = self.value
        return lambda obj: labels.get(value(obj), "")


class _Echo:
    def write(self, value):
        return value


def _cell(value, zone):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M")
    return value


def _rows(queryset, columns: list[ExportColumn]) -> Iterator[list]:
    yield [str(c.header) for c in columns]
    # Looked up once: the current time zone is a context-local read, a million of them add up.
    zone = timezone.get_current_timezone()
    readers = [c.reader() for c in columns]
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield [_cell(read(obj), zone) for read in readers]


def _csv_lines(queryset, columns: list[ExportColumn], zone, language) -> Iterator[str]:
    # The body streams after the view has returned, when the middleware has already reset the
    # time zone and language: keep the request's own while writing.
    # Lines are joined into pieces of about 64 kB: the server writes each piece the generator
    # yields with its own system call, and a million one-line writes cost more than the rows.
    writer = csv.writer(_Echo())
    with timezone.override(zone), translation.override(language):
        piece, size = [], 0
        for row in _rows(queryset, columns):
            line = writer.writerow(row)
            piece.append(line)
            size += len(line)
            if size >= PIECE:
                yield "".join(piece)
                piece, size = [], 0
        if piece:
            yield "".join(piece)


def csv_response(queryset, columns: list[ExportColumn], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_lines(queryset, columns, timezone.get_current_timezone(), translation.get_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _ref(expression):
    """A field name as an expression (lookups, unlike functions, do not take names)."""
    return F(expression) if isinstance(expression, str) else expression


@dataclass(frozen=True)
class SqlCells:
    """Builders of cells in SQL for one export, the counterparts of `_cell`'s formatting: the
    export's time zone (by name, as PostgreSQL knows it) and the moment it started."""

    zone_name: str
    now: datetime

    @staticmethod
    def text(expression):
        """A value as its text (numbers as PostgreSQL writes them: 4.00, 30); "" and NULL as NULL."""
        return NullIf(Cast(expression, TextField()), Value(""), output_field=TextField())

    def local_minute(self, expression):
        """A timestamp as YYYY-MM-DD HH:MM in the export's zone, as `_cell` writes a datetime."""
        return Func(
            expression, Value(self.zone_name), arg_joiner=" AT TIME ZONE ",
            template="to_char(%(expressions)s, 'YYYY-MM-DD HH24:MI')", output_field=CharField(),
        )

    @staticmethod
    def iso_date(expression):
        """A date as YYYY-MM-DD (`date.isoformat`)."""
        return Func(expression, template="to_char(%(expressions)s, 'YYYY-MM-DD')", output_field=CharField())

    @staticmethod
    def label(expression, choices: Iterable[tuple[Any, Any]]):
        """A value as its label (translated now, in the request's language); unknown as NULL."""
        lhs = _ref(expression)
        whens = [When(Exact(lhs, value), then=Value(str(label))) for value, label in choices]
        return Case(*whens, default=Value(None), output_field=CharField())

    def whole_days_until(self, expression):
        """Whole days from the export's moment to a timestamp, never below 0; none without a
        timestamp (`codes.tables.days_left`)."""
        lhs = _ref(expression)
        days = Func(
            lhs, Value(self.now),
            template="GREATEST(0, floor(extract(epoch FROM (%(expressions)s)) / 86400))::integer",
            arg_joiner=" - ", output_field=IntegerField(),
        )
        return Case(When(IsNull(lhs, True), then=Value(None)), default=days, output_field=IntegerField())


def copies_in_sql(queryset, columns: list[ExportColumn]) -> bool:
    """Whether PostgreSQL can write this CSV export itself (`copy_csv_response`)."""
    return connections[queryset.db].vendor == "postgresql" and all(c.sql is not None for c in columns)


def _copy_pieces(queryset, header: bytes) -> Iterator[bytes]:
    yield header
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # a filter nothing can match (e.g. an empty list of ids)
        return
    connection = connections[queryset.db]
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    started = time.monotonic()
    try:
        # The psycopg cursor under Django's wrapper: COPY's parameters are bound client-side by
        # psycopg (the statement cannot take server-side ones); its errors are raised as Django's.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            with cursor.cursor.copy(statement, params) as copy:
                piece, size = [], 0
                # One block per row, ending in "\n"; Python's csv writer ends rows with "\r\n" (and
                # keeps a "\n" inside a quoted cell as it is, as PostgreSQL does).
                for row in copy:
                    piece += (row[:-1], b"\r\n")
                    size += len(row) + 1
                    if size >= PIECE:
                        yield b"".join(piece)
                        piece, size = [], 0
                if piece:
                    yield b"".join(piece)
    finally:
        # In Django's query log, as its debug cursor logs a query (DEBUG, tests counting queries):
        # COPY goes around that cursor.
        if connection.queries_logged:
            connection.queries_log.append(
                {"sql": connection.ops.compose_sql(statement, params), "time": f"{time.monotonic() - started:.3f}"}
            )


def copy_csv_response(queryset, columns: list[ExportColumn], filename: str) -> StreamingHttpResponse:
    """The CSV export written by PostgreSQL (see the module's docstring). The cells are built here,
    in the request's zone and language; the body streams after the view has returned."""
    cells = SqlCells(zone_name=timezone.get_current_timezone_name(), now=timezone.now())
    rows = queryset.values_list(*(column.sql(cells) for column in columns))
    header = csv.writer(_Echo()).writerow([str(c.header) for c in columns]).encode()
    response = StreamingHttpResponse(_copy_pieces(rows, header), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_cell(value):
    """Numbers stay numbers (prices as decimals), everything else is text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    return str(value)


def xlsx_response(queryset, columns: list[ExportColumn], filename: str) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31])
    for row in _rows(queryset, columns):
        sheet.append([_xlsx_cell(v) for v in row])
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
    if copies_in_sql(queryset, columns):
        return copy_csv_response(queryset, columns, filename)
    return csv_response(queryset, columns, filename)
