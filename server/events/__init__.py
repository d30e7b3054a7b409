"""Live job events, from the worker that commits a change to every Watch stream that follows it.

- ``hub``: the fan-out inside one replica (asyncio queues on the server's loop);
- ``postgres``: PostgreSQL LISTEN/NOTIFY, so a replica's watchers also hear about changes other
  replicas commit. A notice carries only the job id and version; the listener re-reads the row
  once and hands it to the hub. On SQLite (one replica) the hub alone is the whole bus.
"""

from voxprint.server.events.hub import JobEvents

__all__ = ["JobEvents"]
