"""Writing several new rows that refer to each other in one statement.

Filing a request writes the request, its first audit event, its first due date
and the message to the requester. As four INSERTs in a transaction that is six
statements and round trips to PostgreSQL (with BEGIN and COMMIT), and
PostgreSQL's work per submission was about three times the baseline form's.
PostgreSQL can do it in one statement: each INSERT is a data-modifying WITH
query, and a foreign key reads the id an earlier one returns. A statement is
atomic, so the rows are stored all together or not at all (on its own it is its
own transaction; inside ``atomic()`` it is part of that one).

Values go through each field's own ``pre_save`` and ``get_db_prep_save`` (so
encryption, ``auto_now`` and JSON work as in ``save()``). Model signals are not
sent; no model saved this way has receivers. Other databases (SQLite in the
embedded portal) get one ``save()`` after the other in a transaction.
"""

import functools

from django.db import connections, transaction
from django.db.models import Model

# Per object: its model, whether the database picks its id, and which foreign keys point at earlier objects
# (field name, index of that object). The statement depends on nothing else, so it is built once per shape.
Shape = tuple[tuple[type[Model], bool, tuple[tuple[str, int], ...]], ...]


def insert_together(*objects: Model, using: str = "default") -> None:
    """Insert new ``objects`` in order, atomically; a foreign key may point at an earlier one of them."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            for obj in objects:
                obj.save(force_insert=True, using=using)
        return

    shape, params = [], []
    for index, obj in enumerate(objects):
        links = []
        for field in obj._meta.concrete_fields:
            if field.primary_key and obj.pk is None:
                continue
            if field.is_relation:
                related = obj._state.fields_cache.get(field.name)
                if related is not None and related.pk is None:
                    if not field.target_field.primary_key:
                        raise ValueError(f"{field} must refer to the primary key to be inserted with its target.")
                    links.append((field.name, _position(related, objects[:index])))
                    continue
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
        shape.append((type(obj), obj.pk is None, tuple(links)))
    with connection.cursor() as cursor:
        cursor.execute(_statement(tuple(shape), using), params)
        ids = cursor.fetchone()
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    for obj, (_model, _auto_pk, links) in zip(objects, shape, strict=True):
        for name, _position_of_related in links:
            field = obj._meta.get_field(name)
            setattr(obj, field.attname, obj._state.fields_cache[name].pk)


def _position(related: Model, earlier: tuple[Model, ...]) -> int:
    for position, obj in enumerate(earlier):
        if obj is related:
            return position
    raise ValueError(f"{related!r} has no id yet and is not inserted before the object that refers to it.")


@functools.lru_cache(maxsize=32)
def _statement(shape: Shape, using: str) -> str:
    # Built only from names in the models' metadata, quoted; every value is a query parameter.
    quote = connections[using].ops.quote_name
    clauses, returned = [], []
    for index, (model, auto_pk, links) in enumerate(shape):
        meta, linked = model._meta, dict(links)
        columns, values = [], []
        for field in meta.concrete_fields:
            if field.primary_key and auto_pk:
                continue
            columns.append(quote(field.column))
            if field.name in linked:
                values.append(f"(SELECT {quote(field.target_field.column)} FROM new_{linked[field.name]})")  # noqa: S608
            else:
                values.append("%s")
        pk = quote(meta.pk.column)
        clauses.append(
            f"new_{index} AS (INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(values)}) RETURNING {pk})"
        )
        returned.append(f"(SELECT {pk} FROM new_{index})")  # noqa: S608
    return f"WITH {', '.join(clauses)} SELECT {', '.join(returned)}"
