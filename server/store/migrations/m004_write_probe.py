"""Version 4: a table of its own for the health probe's test write, so the probe never touches jobs.

The probe inserts a row and deletes it in one transaction; on a full disk the insert fails as any
write would. Nothing reads the table, and it is always empty between probes.
"""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator


def apply(db: peewee.Database, migrator: SchemaMigrator) -> None:
    db.execute_sql("CREATE TABLE write_probe (id VARCHAR(36) PRIMARY KEY, payload TEXT NOT NULL)")
