"""Schema migrations, applied in order on start; a migration's position + 1 is its schema version.

Each migration is a module of this package with one ``apply(db, migrator)`` that describes the
schema change explicitly: it never builds tables from the live models in ``server.store.models``,
so an old migration still means what it meant when it was written.

Replicas that start at the same moment on an empty PostgreSQL database take turns through a
session-level advisory lock. A SQLite database serves one replica, so it needs no such lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import peewee
from playhouse.migrate import SchemaMigrator

from voxprint.server.store.migrations import (
    m001_create_job,
    m002_claims_with_leases,
    m003_tenants,
    m004_write_probe,
)

Migration = Callable[[peewee.Database, SchemaMigrator], None]

MIGRATIONS: list[Migration] = [
    m001_create_job.apply,
    m002_claims_with_leases.apply,
    m003_tenants.apply,
    m004_write_probe.apply,
]

# pg_advisory_lock key: any constant unique to voxprint ("voxp" in ASCII).
_ADVISORY_LOCK_KEY = 0x766F7870


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField()

    class Meta:
        table_name = "schemaversion"


def schema_version(db: peewee.Database) -> int:
    with db.bind_ctx([SchemaVersion]):
        if not db.table_exists(SchemaVersion._meta.table_name):
            return 0
        row = SchemaVersion.select().first()
        return row.version if row else 0


def migrate(db: peewee.Database, migrations: list[Migration] = MIGRATIONS) -> None:
    """Apply the migrations newer than the database's schema version, each in its own transaction."""
    with db.connection_context(), _one_migrator_at_a_time(db), db.bind_ctx([SchemaVersion]):
        db.create_tables([SchemaVersion], safe=True)
        migrator = SchemaMigrator.from_database(db)
        current = schema_version(db)
        for number, step in enumerate(migrations[current:], start=current + 1):
            with db.atomic():
                step(db, migrator)
                # The query SchemaVersion.delete() builds, spelt out: types-peewee declares that
                # class-only method in a way mypy cannot read through the class.
                peewee.ModelDelete(SchemaVersion).execute()
                SchemaVersion.create(version=number)


@contextmanager
def _one_migrator_at_a_time(db: peewee.Database) -> Iterator[None]:
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            yield
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    else:
        yield
