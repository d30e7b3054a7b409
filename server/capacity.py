"""Capacity that all callers share, with a share per tenant, so one tenant cannot use up everyone's.

The memory uploads in progress may hold and the live Watch streams are each a ``SharedCapacity``.
When a server has more than one tenant, no tenant may hold more than ``TENANT_SHARE`` of it; a
server with one tenant (or none configured) gives it all of it.
"""

from __future__ import annotations

import threading
from collections import Counter

#: The most of any capacity one tenant may hold while other tenants exist.
TENANT_SHARE = 0.5


class CapacityReached(Exception):
    """Taking more would pass the capacity (``limit``), or the caller's tenant's share of it."""

    def __init__(self, limit: int, tenant_share: bool) -> None:
        super().__init__(f"{'a tenant’s share' if tenant_share else 'the limit'} of {limit}")
        self.limit = limit
        self.tenant_share = tenant_share

    @property
    def which(self) -> str:
        """ "its limit" or "this tenant's share", for messages to the caller."""
        return "this tenant's share" if self.tenant_share else "its limit"


class SharedCapacity:
    """``total`` units (bytes, streams) held and given back by tenant; safe from any thread."""

    def __init__(self, total: int, tenants: int) -> None:
        self.total = total
        self.per_tenant = total if tenants <= 1 else max(1, int(total * TENANT_SHARE))
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, tenant: str, amount: int) -> None:
        with self._lock:
            if self.per_tenant < self.total and self._held[tenant] + amount > self.per_tenant:
                raise CapacityReached(self.per_tenant, tenant_share=True)
            if self._held.total() + amount > self.total:
                raise CapacityReached(self.total, tenant_share=False)
            self._held[tenant] += amount

    def give_back(self, tenant: str, amount: int) -> None:
        with self._lock:
            self._held[tenant] -= amount
            if self._held[tenant] <= 0:
                del self._held[tenant]
