"""Fixed SQL for the few statements on the redemption's hot path, with the models still in charge
of the select lists, the values' types and the instances.

Django builds and compiles a queryset on every call. For the redemption's locking SELECT that
came to about 0.9 ms of CPU per call (building 0.3 ms, compiling 0.6 ms), against 0.13 ms to send
the same SQL and read its row; the five statements of a redemption took more than half of its
CPU (docs/BENCHMARKS.md, fifth round). The statements written here are fixed text, built once
per database vendor from the models' own metadata:

- `columns(model, alias)`: the model's concrete columns, in field order, for a SELECT list;
- `load(model, row, start)`: an instance from that slice of a row: each value through the
  converters the ORM would apply (the backend's and the field's: on SQLite, text to aware
  datetimes), then `Model.from_db` (Django's documented hook for loading rows, so `_state` and
  `refresh_from_db` work as for any queryset's instance);
- `update(model, pks, **values)`: one UPDATE of these rows, each value through its field's own
  `get_db_prep_save` (so datetimes are adapted as the ORM adapts them: as UTC text on SQLite),
  which is what `QuerySet.update` writes, without building a queryset;
- `insert(model, instances)`: INSERT ... RETURNING the new ids, in batches the backend
  allows, values as above after each field's `pre_save` (what `bulk_create` writes);
- `any_of(column, ids)`: a list of ids as one condition;
- `lock_clause(alias)`: `FOR NO KEY UPDATE OF alias` where the database has row locks (see
  `codes.locking` for why that mode), nothing on SQLite (whose transactions are serialised);
- `prepared_cursor()`: for the locking SELECTs, a cursor whose statements PostgreSQL plans once
  per connection instead of on every call (see there);
- `writes_together()`: the UPDATEs of a block travel with the block's next statement (on
  PostgreSQL), so a redemption's writes take one round trip to the server instead of three.

Only fixed-shape statements belong here; everything else stays with the ORM.
"""

from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def columns(model: type[Model], alias: str) -> str:
    return _columns(model, alias, connection.vendor)


@cache
def _columns(model: type[Model], alias: str, vendor: str) -> str:
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def load(model: type[Model], row: Sequence, start: int = 0) -> tuple[Model, int]:
    """The instance in `row[start:]` (laid out as `columns(model, ...)`), and where the next one
    starts."""
    db = _db()
    attnames, converters = _loading(model, db.vendor)
    end = start + len(attnames)
    values = list(row[start:end])
    for index, column, field_converters in converters:
        value = values[index]
        for converter in field_converters:
            value = converter(value, column, db)
        values[index] = value
    return model.from_db(db.alias, attnames, values), end


@cache
def _loading(model: type[Model], vendor: str) -> tuple[list[str], list[tuple]]:
    """The model's attnames, and (index, column, converters) for the fields that have converters
    on this vendor: what the ORM's compiler works out for every query (`get_converters`)."""
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        field_converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if field_converters:
            converters.append((index, column, field_converters))
    return [field.attname for field in fields], converters


def update(model: type[Model], pks: Sequence[int], **values) -> int | None:
    """`UPDATE model SET ... WHERE pk IN pks`; returns the number of rows changed, or None inside
    `writes_together()`, where the statement is sent later. For fields without `auto_now` (their
    `pre_save` is not called)."""
    db = _db()
    if not pks:
        return 0
    fields = [model._meta.get_field(name) for name in values]  # get_field knows attnames too ("unit_id")
    params = [field.get_db_prep_save(value, db) for field, value in zip(fields, values.values(), strict=True)]
    sql = _update_head(model, tuple(fields), db.vendor) + f"({placeholders(len(pks))})"
    if (pending := _pending_writes.get()) is not None:
        pending.append((sql, [*params, *pks]))
        return None
    with db.cursor() as cursor:
        cursor.execute(sql, [*params, *pks])
        return cursor.rowcount


@cache
def _update_head(model: type[Model], fields: tuple, vendor: str) -> str:
    """The statement up to its list of ids: the same text on every call with the same fields."""
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return f"UPDATE {table(model)} SET {assignments} WHERE {quote(model._meta.pk.column)} IN "


def insert(model: type[Model], instances: list[Model]) -> list[Model]:
    """Insert new instances of a model with an automatic primary key, and set their ids and
    `_state` as `bulk_create` does. No signals are sent (`bulk_create` sends none either)."""
    db = _db()
    fields, head, row, returning = _insert_parts(model, db.vendor)
    # At most 2,000 rows a statement (as events_write asked bulk_create for): PostgreSQL takes at most
    # 65,535 parameters when they are bound on the server.
    batch_size = max(1, min(2000, db.ops.bulk_batch_size(fields, instances)))
    with db.cursor() as cursor:
        for start in range(0, len(instances), batch_size):
            batch = instances[start : start + batch_size]
            params = [
                field.get_db_prep_save(field.pre_save(instance, True), db)
                for instance in batch
                for field in fields
            ]
            cursor.execute(f"{head}{', '.join([row] * len(batch))}{returning}", params)
            # Rows come back in the order of VALUES (bulk_create relies on this too).
            for instance, (new_id,) in zip(batch, cursor.fetchall(), strict=True):
                instance.pk = new_id
                instance._state.adding = False
                instance._state.db = db.alias
    return instances


@cache
def _insert_parts(model: type[Model], vendor: str) -> tuple[list, str, str, str]:
    """The fields an INSERT writes (all but the automatic primary key), the statement's head, one
    row of placeholders and the RETURNING clause: the same text on every call."""
    pk = model._meta.pk
    fields = [field for field in model._meta.concrete_fields if field is not pk]
    head = f"INSERT INTO {table(model)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    return fields, head, f"({placeholders(len(fields))})", f" RETURNING {quote(pk.column)}"


def lock_clause(alias: str) -> str:
    db = _db()
    if not db.features.has_select_for_update:
        return ""
    return " " + db.ops.for_update_sql(of=(alias,), no_key=db.features.has_select_for_no_key_update)


def _db():
    """The default database's connection itself: `django.db.connection` is a proxy that finds it
    on every attribute read (a lookup in asgiref's context-local storage), which came to about
    seventy lookups per redemption here."""
    return connections[DEFAULT_DB_ALIAS]


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def any_of(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column` is one of `ids`, as SQL and its parameters: on PostgreSQL `= ANY` one array (so
    the statement's text is the same for any number of ids), elsewhere `IN (%s, ...)`."""
    db = _db()
    if db.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({placeholders(len(ids))})", list(ids)


def bigint_array(ids: Sequence[int]) -> str:
    """Ids as one PostgreSQL array literal, the parameter of a `%s::bigint[]`: psycopg adapts a
    Python list element by element in Python (about 7 ms for the jobs' 5,000 ids a statement),
    the literal is joined in a twentieth of that. `int()` keeps it to numbers whatever is passed."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def prepared_cursor():
    """A cursor for fixed statements run on every redemption: on PostgreSQL it binds values on
    the server and prepares each statement the first time a connection runs it (psycopg keeps
    them per connection), so PostgreSQL parses and plans it once per connection rather than on
    every call. The settings give these statements generic plans (`plan_cache_mode`, set with
    DB_PREPARED_STATEMENTS; Django itself prepares nothing, so nothing else is affected): the
    redemption's two locking SELECTs took 0.25 and 0.30 ms of PostgreSQL's CPU each, mostly
    planning, and take 0.08 and 0.10 ms prepared (docs/BENCHMARKS-notes.md, seventh round).

    Django's own cursor elsewhere; with DB_PREPARED_STATEMENTS off (behind a connection pooler
    that cannot keep prepared statements, such as PgBouncer in transaction mode before 1.21); and
    while Django logs queries (DEBUG, or a test capturing them): psycopg keeps no text of a
    prepared execution for the log, and there the log shows each statement with its values. The
    prepared cursor goes through Django's cursor wrapper too: its error translation and
    `execute_wrapper`s apply as to any other query."""
    db = _db()
    if (
        db.vendor != "postgresql"
        or not settings.KEYLINE_DB_PREPARED_STATEMENTS
        or db.queries_logged
    ):
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        cursor = _prepared_cursor_class()(db.connection)
    return db.make_cursor(cursor)


@cache
def _prepared_cursor_class():
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        """Server-side binding, every statement prepared (Django calls `execute(sql, params)`)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


#: The statements `update` holds back inside `writes_together()` (None outside it).
_pending_writes: ContextVar[list | None] = ContextVar("fixed_sql_pending_writes", default=None)


@contextmanager
def writes_together():
    """Inside a transaction: the `update`s of this block are not sent on their own but in front of
    the next statement the connection runs (a redemption's code and unit UPDATEs ride with the
    INSERT of its audit entries), or at the end of the block when none follows. Each round trip
    to PostgreSQL costs the web worker and the server about as much CPU as a one-row UPDATE's own
    work (docs/BENCHMARKS-notes.md, tenth round).

    Nothing reads a held-back write's effect early: every statement the connection runs in the
    block, through the ORM or not, takes the pending ones along (`_send_pending_first`), in order,
    in one multi-statement query that PostgreSQL runs as written; an error in any of them is raised
    from that `execute`, translated by Django like any other. Only where the connection can take
    several statements with their values in one query (PostgreSQL with Django's client-side
    binding); elsewhere, and while Django logs queries (each statement keeps its own log entry, so
    query counts are the same on every database), every statement goes on its own."""
    db = _db()
    if (
        _pending_writes.get() is not None
        or db.vendor != "postgresql"
        or db.settings_dict["OPTIONS"].get("server_side_binding")
        or db.queries_logged
    ):
        yield
        return
    pending: list = []
    token = _pending_writes.set(pending)
    try:
        with db.execute_wrapper(_send_pending_first):
            yield
            if pending:  # nothing followed them: they go on their own
                with db.cursor() as cursor:
                    _send(cursor.execute, _taken(pending))
    finally:
        _pending_writes.reset(token)


def _send_pending_first(execute, sql, params, many, context):
    pending = _pending_writes.get()
    if not pending:
        return execute(sql, params, many, context)
    statements = _taken(pending)
    if many or not isinstance(params, list | tuple) or not _takes_several_statements(context["cursor"]):
        _send(lambda joined, values: execute(joined, values, False, context), statements)
        return execute(sql, params, many, context)
    result = execute(
        "; ".join([*(statement for statement, _values in statements), sql]),
        [*(value for _statement, values in statements for value in values), *params],
        False,
        context,
    )
    cursor = context["cursor"].cursor
    for _statement in statements:  # the caller reads its own statement's result: the last one
        cursor.nextset()
    return result


def _taken(pending: list) -> list:
    statements = pending[:]
    pending.clear()
    return statements


def _send(execute, statements: list) -> None:
    execute("; ".join(statement for statement, _values in statements), [v for _s, values in statements for v in values])


def _takes_several_statements(cursor_wrapper) -> bool:
    """A client-side binding cursor (Django's on PostgreSQL) sends a query with its values merged
    in, which PostgreSQL accepts with several statements; the prepared cursor does not."""
    import psycopg

    return isinstance(cursor_wrapper.cursor, psycopg.ClientCursor)
