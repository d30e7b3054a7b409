"""Version 1: the job table as voxprint 0.1 created it."""

from __future__ import annotations

import datetime as dt
import uuid

import peewee
from playhouse.migrate import SchemaMigrator


def apply(db: peewee.Database, migrator: SchemaMigrator) -> None:
    class Job(peewee.Model):
        id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
        request_id = peewee.CharField(max_length=128, null=True, unique=True)
        state = peewee.CharField(max_length=32, default="pending", index=True)
        version = peewee.IntegerField(default=1)
        claimed_by = peewee.CharField(max_length=64, null=True)
        filename = peewee.CharField(max_length=255, default="")
        content_type = peewee.CharField(max_length=64, default="")
        audio_path = peewee.CharField(max_length=255)
        audio_size = peewee.IntegerField()
        audio_duration = peewee.FloatField()
        width = peewee.IntegerField()
        dither = peewee.CharField(max_length=32)
        transcript = peewee.TextField(null=True)
        error = peewee.TextField(null=True)
        error_stage = peewee.CharField(max_length=32, null=True)
        image_path = peewee.CharField(max_length=255, null=True)
        image_width = peewee.IntegerField(null=True)
        image_height = peewee.IntegerField(null=True)
        image_size = peewee.IntegerField(null=True)
        raster = peewee.BlobField(null=True)
        raster_width = peewee.IntegerField(null=True)
        raster_height = peewee.IntegerField(null=True)
        raster_bytes_per_row = peewee.IntegerField(null=True)
        transcriber = peewee.CharField(max_length=128, default="")
        illustrator = peewee.CharField(max_length=128, default="")
        timings = peewee.TextField(default="{}")
        created_at = peewee.DateTimeField(default=dt.datetime.utcnow, index=True)
        updated_at = peewee.DateTimeField(default=dt.datetime.utcnow)

        class Meta:
            database = db
            table_name = "job"

    db.create_tables([Job])
