"""The ADL policies as pure allocations: the papers' toy example in integer units, the
water-filling against an exact continuous reference, and the fairness axioms each policy
keeps or breaks (Sybil resistance, continuity)."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pyspec.adl_allocator import Holder, allocate, water_fill
from pyspec.constants import (
    ADL_POLICY_PNL_PRO_RATA,
    ADL_POLICY_QUEUE,
)

PRICE, MMR = 10, 100_000  # a requirement of exactly one unit per lot


def address(i: int) -> str:
    return f"0x{i + 1:040x}"


def toy_holders() -> list[Holder]:
    """The toy instance (arXiv 2512.01112 v3) scaled by 10: winners with capacities
    (8, 4, 0.5) and equities (10, 5, 1), a budget of 7.5. Entry notionals give the queue
    the papers' order (2, 1, 3): PnL% 10%, 40%, 0.5%."""
    return [
        Holder(address(0), size=80, upnl=80, entry=800, equity=100, maintenance=80),
        Holder(address(1), size=40, upnl=40, entry=100, equity=50, maintenance=40),
        Holder(address(2), size=10, upnl=5, entry=1000, equity=10, maintenance=10),
    ]


def charges(policy: int, holders: list[Holder], size: int, loss: int) -> dict[str, int]:
    fills = allocate(policy, PRICE, MMR, holders, size, loss)
    assert sum(f.size for f in fills) == size
    return {f.counterparty: f.absorbed for f in fills}


def test_toy_example_queue():
    taken = charges(ADL_POLICY_QUEUE, toy_holders(), 75, 75)
    assert [taken.get(address(i), 0) for i in range(3)] == [35, 40, 0]  # (3.5, 4, 0)


def test_toy_example_pro_rata():
    taken = charges(ADL_POLICY_PNL_PRO_RATA, toy_holders(), 75, 75)
    assert [taken[address(i)] for i in range(3)] == [48, 24, 3]  # (4.8, 2.4, 0.3), h = 0.6


def continuous(weights, caps, budget) -> list[Fraction]:
    """min(cap, level x weight) at the exact level (caps saturate in order of cap /
    weight): the reference water-filling, in fractions."""
    remaining, total = Fraction(budget), sum(weights)
    level = None
    for w, c in sorted(zip(weights, caps, strict=True), key=lambda p: Fraction(p[1], p[0])):
        if remaining < Fraction(c, w) * total:
            level = remaining / total
            break
        remaining -= c
        total -= w
    if level is None:  # every cap binds
        return [Fraction(c) for c in caps]
    return [min(Fraction(c), level * w) for w, c in zip(weights, caps, strict=True)]


@given(
    st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**9)), min_size=1, max_size=8),
    st.integers(0, 10**10),
)
def test_water_fill_is_exact_and_within_one_unit(pairs, budget):
    weights, caps = [p[0] for p in pairs], [p[1] for p in pairs]
    shares = water_fill(weights, caps, [address(i) for i in range(len(pairs))], budget)
    assert sum(shares) == min(budget, sum(caps))
    assert all(0 <= s <= c for s, c in zip(shares, caps, strict=True))
    reference = continuous(weights, caps, budget)
    assert all(abs(s - r) < 1 for s, r in zip(shares, reference, strict=True))


def test_water_fill_remainder_goes_to_the_largest_fraction_then_the_lower_address():
    # 10 over weights 1, 1, 1: 3.33 each, the extra unit to the lowest address
    assert water_fill([1, 1, 1], [10, 10, 10], [address(2), address(0), address(1)], 10) == [
        3,
        4,
        3,
    ]
    # 5 over 2, 1: 3.33 and 1.67, the unit to the larger fraction (0.67)
    assert water_fill([2, 1], [10, 10], [address(0), address(1)], 5) == [3, 2]


def split(holder: Holder, k: int, first: int) -> list[Holder]:
    """``holder`` as k sybil accounts holding equal parts (k divides every field)."""
    return [
        Holder(
            address(first + i),
            holder.size // k,
            holder.upnl // k,
            holder.entry // k,
            holder.equity // k,
            holder.maintenance // k,
        )
        for i in range(k)
    ]


def owner_pays(policy: int, k: int) -> int:
    """What the owner of the largest winner pays in total when it splits into k."""
    whale = Holder(address(0), 600, 1_200, 6_000, 2_400, 600)
    others = [
        Holder(address(1), 600, 600, 600, 1_200, 600),
        Holder(address(2), 600, 300, 12_000, 600, 600),
    ]
    holders = split(whale, k, 100) + others
    taken = charges(policy, holders, 900, 900)
    return sum(taken.get(h.account, 0) for h in holders[:k])


def test_every_policy_resists_proportional_splits():
    """Splitting a winner into k equal accounts changes what its owner pays by less than
    k units (integer shares) under every policy. The queue passes too: its rank is the
    position's PnL%, which a split keeps (the BitMEX rank, with the account's leverage,
    does not)."""
    for policy in range(4):
        paid = [owner_pays(policy, k) for k in (1, 2, 3, 6)]
        assert all(abs(p - paid[0]) < k for p, k in zip(paid, (1, 2, 3, 6), strict=True)), (
            policy,
            paid,
        )


def test_queue_is_not_monotone_pro_rata_is():
    """After the toy's queue, the second winner (capacity 4) is left with 0, below the
    third (0.5): the order of endowments inverts. Pro-rata keeps it: (3.2, 1.6, 0.2)."""
    holders = toy_holders()
    for policy, inverted in ((ADL_POLICY_QUEUE, True), (ADL_POLICY_PNL_PRO_RATA, False)):
        taken = charges(policy, holders, 75, 75)
        left = [h.upnl - taken.get(h.account, 0) for h in holders]
        assert (sorted(left, reverse=True) != left) is inverted, (policy, left)


def test_queue_is_discontinuous_pro_rata_is_not():
    """Two winners able to pay the whole budget, ranks a hair apart (OL): the queue moves
    the whole budget from one to the other; pro-rata moves one unit at most."""

    def pair(bump: int) -> list[Holder]:
        return [
            Holder(address(0), 100, 1_000 + bump, 10_000, 5_000, 100),
            Holder(address(1), 100, 1_000, 10_000 + bump, 5_000, 100),
        ]

    for policy, moved in ((ADL_POLICY_QUEUE, 100), (ADL_POLICY_PNL_PRO_RATA, 1)):
        up = charges(policy, pair(1), 100, 100)
        down = charges(policy, pair(-1), 100, 100)
        assert abs(up.get(address(0), 0) - down.get(address(0), 0)) <= moved
    assert charges(ADL_POLICY_QUEUE, pair(1), 100, 100) == {address(0): 100}
