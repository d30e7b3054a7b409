"""Specification of shared capacity: a total for everyone, and a share per tenant when there are several."""

from __future__ import annotations

import pytest

from voxprint.server.capacity import TENANT_SHARE, CapacityReached, SharedCapacity


def test_a_lone_tenant_may_hold_all_of_it():
    capacity = SharedCapacity(10, tenants=1)
    capacity.take("default", 10)
    with pytest.raises(CapacityReached) as reached:
        capacity.take("default", 1)
    assert (reached.value.limit, reached.value.tenant_share) == (10, False)


def test_among_several_tenants_one_holds_at_most_its_share():
    capacity = SharedCapacity(10, tenants=3)
    capacity.take("kitchen", int(10 * TENANT_SHARE))
    with pytest.raises(CapacityReached) as reached:
        capacity.take("kitchen", 1)
    assert reached.value.tenant_share and reached.value.which == "this tenant's share"
    capacity.take("workshop", 1)


def test_the_total_holds_whatever_the_shares():
    capacity = SharedCapacity(10, tenants=3)
    capacity.take("kitchen", 5)
    capacity.take("workshop", 5)
    with pytest.raises(CapacityReached) as reached:
        capacity.take("garden", 1)
    assert not reached.value.tenant_share


def test_what_is_given_back_can_be_taken_again():
    capacity = SharedCapacity(4, tenants=2)
    capacity.take("kitchen", 2)
    capacity.give_back("kitchen", 2)
    capacity.take("kitchen", 2)
