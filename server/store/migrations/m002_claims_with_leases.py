"""Version 2: claims that expire, a partial index for the claim query, rasters in their own table.

Several replicas share one database from here on: a claim carries a token and an expiry renewed
by heartbeats, so a dead replica's jobs are taken over; the raster bytes move out of the job row
that every GetJob, Watch and ListJobs reads.
"""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run


def apply(db: peewee.Database, migrator: SchemaMigrator) -> None:
    run(
        migrator.add_column("job", "lease_token", peewee.CharField(max_length=32, null=True)),
        migrator.add_column("job", "lease_expires_at", peewee.DateTimeField(null=True)),
        migrator.add_column("job", "attempt", peewee.IntegerField(default=0)),
    )
    # Only unfinished jobs are ever claimed; the index stays as small as the backlog.
    db.execute_sql("CREATE INDEX job_claimable ON job (created_at) WHERE state NOT IN ('completed', 'failed')")

    class Job(peewee.Model):
        id = peewee.UUIDField(primary_key=True)

        class Meta:
            database = db
            table_name = "job"

    class RasterData(peewee.Model):
        job = peewee.ForeignKeyField(Job, primary_key=True, on_delete="CASCADE", column_name="job_id")
        data = peewee.BlobField()

        class Meta:
            database = db
            table_name = "raster_data"

    db.create_tables([RasterData])
    db.execute_sql("INSERT INTO raster_data (job_id, data) SELECT id, raster FROM job WHERE raster IS NOT NULL")
    run(migrator.drop_column("job", "raster"))
