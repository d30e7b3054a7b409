"""Version 3: every job belongs to a tenant, and request ids are unique per tenant.

Jobs stored before tenants existed belong to the default tenant, which is also the tenant of a
server guarded by one ``VOXPRINT_AUTH_TOKEN`` or by none, so they stay visible exactly as before.
"""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator


def apply(db: peewee.Database, migrator: SchemaMigrator) -> None:
    db.execute_sql("ALTER TABLE job ADD COLUMN tenant VARCHAR(64) NOT NULL DEFAULT 'default'")
    # m001's unique index on request_id alone gives way to one on (tenant, request_id).
    db.execute_sql("DROP INDEX job_request_id")
    db.execute_sql("CREATE UNIQUE INDEX job_tenant_request_id ON job (tenant, request_id)")
