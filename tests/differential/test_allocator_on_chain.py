"""``AdlAllocator.allocate`` on chain against ``adl_allocator.allocate``, call by call.

The machine reaches the allocator only through deleverages, where ties of fractional parts,
ranks and many remainder units are rare. Here hypothesis builds the holder lists directly:
weights from a few values so fractional parts tie, addresses in any order, remainders of
every count (the contract's selection picks the complement when more than half of the
parts get a unit), and every policy.
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from harness.evm.revm import RevmChain
from pyspec.adl_allocator import Fill, Holder, allocate
from pyspec.constants import (
    ADL_POLICY_CONTRACT_PRO_RATA,
    ADL_POLICY_COUNT,
    ADL_POLICY_PNL_PRO_RATA,
    ADL_POLICY_QUEUE,
    MAX_POSITIONS_PER_MARKET,
)
from pyspec.margin import compute_margin_requirement

PRICE, MMR = 10**6, 50_000


@pytest.fixture(scope="module")
def allocator():
    chain = RevmChain()
    art = artifacts.load("AdlAllocator")
    address = chain.deploy(art.initcode(), chain.accounts[0])
    codec = FunctionCodec(next(f for f in art.abi if f.get("name") == "allocate"))

    def call(policy, holders, size, loss):
        rows = [
            (h.account, h.size, h.upnl, h.entry, h.equity, h.maintenance, h.paid) for h in holders
        ]
        out = chain.call(address, codec.encode((policy, PRICE, MMR, rows, size, loss)))
        assert out.success, out
        return [Fill(a.lower(), s, x) for a, s, x in codec.decode(out.output)[0]]

    return call


@st.composite
def rounds(draw):
    n = draw(st.integers(1, MAX_POSITIONS_PER_MARKET))
    ids = draw(st.lists(st.integers(1, 2**160 - 1), min_size=n, max_size=n, unique=True))
    small = st.sampled_from([1, 2, 3, 7, 10])  # few values: equal weights, equal parts
    holders = []
    for account in ids:
        size = draw(st.one_of(small, st.integers(1, 10**9)))
        upnl = draw(st.one_of(small, st.integers(-(10**12), 10**12)))
        equity = draw(st.one_of(small, st.integers(-(10**12), 10**13)))
        holders.append(
            Holder(
                account=f"0x{account:040x}",
                size=size,
                upnl=upnl,
                entry=draw(st.one_of(small, st.integers(0, 10**15))),
                equity=equity,
                # the position's own requirement and the rest of the account's
                maintenance=compute_margin_requirement(size, PRICE, MMR)
                + draw(st.integers(0, 10**12)),
                # the round's charges so far: in proportion to the profit (the round's
                # apportionment continues) or anything (the price moved within the round)
                paid=draw(st.one_of(st.just(0), small, st.integers(0, 10**12))),
            )
        )
    size = draw(st.integers(1, sum(h.size for h in holders)))
    loss = draw(st.one_of(small, st.integers(0, 10**13)))
    return draw(st.integers(0, ADL_POLICY_COUNT - 1)), holders, size, loss


@settings(max_examples=400, deadline=None)
@given(rounds())
def test_allocate_matches_the_spec(allocator, case):
    policy, holders, size, loss = case
    assert allocator(policy, holders, size, loss) == allocate(
        policy, PRICE, MMR, holders, size, loss
    )


def test_more_than_half_of_the_parts_get_a_unit(allocator):
    """Three equal weights share 5 units: 1 each, and 2 left over for 3 equal parts go to
    the two lower addresses. Two of three is more than half: the complement branch."""
    holders = [
        Holder(f"0x{a:040x}", size=1, upnl=10, entry=1, equity=100, maintenance=MMR)
        for a in (3, 1, 2)
    ]
    fills = allocator(ADL_POLICY_CONTRACT_PRO_RATA, holders, 3, 5)
    assert fills == allocate(ADL_POLICY_CONTRACT_PRO_RATA, PRICE, MMR, holders, 3, 5)
    assert {f.counterparty[-1]: f.absorbed for f in fills} == {"3": 1, "1": 2, "2": 2}


def holder(account: int, size: int, upnl: int, entry: int = 1) -> Holder:
    requirement = compute_margin_requirement(size, PRICE, MMR)
    return Holder(f"0x{account:040x}", size, upnl, entry, 10**12, requirement)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 31, 32])
def test_equal_parts_every_remainder_in_every_address_order(allocator, n):
    """Equal weights leave equal fractional parts: addresses alone decide which get the
    remainder, for every count of units left (the complement branch from more than half),
    with the holders' addresses ascending, descending and shuffled."""
    accounts = random.Random(n).sample(range(1, 10**6), n)
    for order in (sorted(accounts), sorted(accounts, reverse=True), accounts):
        holders = [holder(a, 5, 10**9) for a in order]
        for left in range(n):
            # the charges' water-fill by size, then the lots' by size under pnl weights
            shapes = (
                (ADL_POLICY_CONTRACT_PRO_RATA, 1 + left),
                (ADL_POLICY_PNL_PRO_RATA, 5 * n - left),
            )
            for policy, size in shapes:
                loss = 3 * n + left
                assert allocator(policy, holders, size, loss) == allocate(
                    policy, PRICE, MMR, holders, size, loss
                ), (policy, order, left)


def test_the_largest_base_takes_several_units_left(allocator):
    """The highest averages: after the floors, a base far above the others has its next
    thresholds first, so it takes several of the units left (the largest remainders would
    give one to each of the small ones). Equal thresholds go to the lower address."""
    holders = [holder(0x5, 1, 10**6), *(holder(a, 1, 3) for a in (0x4, 0x3, 0x2, 0x1))]
    fills = allocator(ADL_POLICY_PNL_PRO_RATA, holders, 5, 4)
    assert fills == allocate(ADL_POLICY_PNL_PRO_RATA, PRICE, MMR, holders, 5, 4)
    assert {int(f.counterparty, 16): f.absorbed for f in fills if f.absorbed} == {0x5: 4}


def test_a_round_s_charges_continue_its_apportionment(allocator):
    """A second call of a round: the holders paid the apportionment of 7 units on bases 10
    and 4 (5 and 2), and a call of 5 charges what the apportionment of 12 adds (4 and 1).
    After a price move, a holder paid 5 of base 10 beside one with base 40 that paid
    nothing: the apportionment of 10 gives it 2, less than it paid, so the call charges
    what the apportionment adds from 5 to 10 (1 and 4)."""
    first = [_paid(holder(0x1, 1, 5), 5), _paid(holder(0x2, 1, 2), 2)]
    moved = [_paid(holder(0x1, 1, 5), 5), holder(0x2, 1, 40)]
    for holders, charges in ((first, [4, 1]), (moved, [1, 4])):
        fills = allocator(ADL_POLICY_PNL_PRO_RATA, holders, 2, 5)
        assert fills == allocate(ADL_POLICY_PNL_PRO_RATA, PRICE, MMR, holders, 2, 5)
        assert [f.absorbed for f in fills] == charges


def _paid(h: Holder, paid: int) -> Holder:
    return Holder(h.account, h.size, h.upnl, h.entry, h.equity, h.maintenance, paid)


def test_a_pick_takes_the_last_candidate_s_address_too(allocator):
    """A review's case: after the first unit the last candidate moves into the picked
    slot with its address (charges 2, 2, 1, 1, not 2, 1, 1, 2)."""
    holders = [holder(a, 1, 10**6) for a in (0x1, 0x2, 0x9, 0x3)]
    fills = allocator(ADL_POLICY_CONTRACT_PRO_RATA, holders, 4, 6)
    assert fills == allocate(ADL_POLICY_CONTRACT_PRO_RATA, PRICE, MMR, holders, 4, 6)
    assert [f.absorbed for f in fills] == [2, 2, 1, 1]


def test_the_queue_breaks_a_tie_of_ranks_by_the_lowest_address(allocator):
    """A review's case: three equal ranks; the lowest address, listed second, goes first."""
    holders = [holder(a, 1, 10) for a in (0x3, 0x1, 0x2)]
    fills = allocator(ADL_POLICY_QUEUE, holders, 1, 0)
    assert fills == allocate(ADL_POLICY_QUEUE, PRICE, MMR, holders, 1, 0)
    assert fills[0].counterparty == "0x0000000000000000000000000000000000000001"
