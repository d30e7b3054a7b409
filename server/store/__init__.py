"""Persistence, one room per idea:

- ``models``: the job tables (Peewee models) and the job states;
- ``migrations/``: the schema, one explicit step per version, applied on start;
- ``database``: opening SQLite or PostgreSQL with a bounded pool, and borrowing connections;
- ``jobs``: what clients create and read;
- ``queue``: what workers claim, renew, write under a fence and release.

Media (recordings, pictures) are not here: see ``voxprint.server.media``. Live change events: ``voxprint.server.events``.
"""

from voxprint.server.store.database import DEFAULT_POOL_SIZE, DatabaseAccess, StoreFull, open_database
from voxprint.server.store.jobs import DuplicateRequest, JobStore, NewJob
from voxprint.server.store.models import DEFAULT_TENANT, TERMINAL_STATES, Job, RasterShape, Stage, State, StoredPicture
from voxprint.server.store.queue import DEFAULT_LEASE_SECONDS, JobQueue, LeaseLost

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TENANT",
    "TERMINAL_STATES",
    "DatabaseAccess",
    "DuplicateRequest",
    "Job",
    "JobQueue",
    "JobStore",
    "LeaseLost",
    "NewJob",
    "RasterShape",
    "Stage",
    "State",
    "StoreFull",
    "StoredPicture",
    "open_database",
]
