"""Each state invariant fires on a dump broken in its field, on the spec's words and on the
chain's, and holds on the dump as it is. The checks remember accounts they saw
(``invariants.account_books``): a broken account must still be seen afresh."""

import pytest

from harness.core import dump, invariants
from harness.core.branches import Stats
from harness.core.dump import ACCOUNT_HEAD
from harness.core.genesis import USDC
from harness.core.invariants import InvariantViolation
from harness.core.machine import DifferentialMachine, explore
from harness.core.sequence import CheckedSequence
from harness.vectors.builder import Builder, settle_trade
from pyspec.constants import FUNDING_INDEX_SCALE

# in a parsed account: collateral, booked loss, new money, then market 0's position
SIZE, ENTRY, CHECKPOINT = (ACCOUNT_HEAD - 1 + i for i in range(3))


@pytest.fixture
def parsed_sides(embedded_pair):
    """A state with open positions, accrued funding and a price move, as both sides
    dump it."""
    pair = embedded_pair
    pair.reset()
    b = Builder(pair, "invariants", "broken", "")
    for trader in ("trader0", "trader1", "trader2"):
        b("deposit", trader, 20_000 * USDC)
    b(settle_trade("trader0", "trader1", 5_000, 10**6))
    b(settle_trade("trader2", "trader0", 2_000, 10**6))
    b("set_funding_rate", "oracle", 0, 1_000_000)
    b.price(0, 1_030_000)
    pair.check_full(None)
    n = len(pair.accounts)
    sides = {"spec": pair.spec_parsed(), "chain": dump.parse(pair.last_dump, n)}
    assert any(any(books.owed) for books in invariants.books_of(sides["spec"]))  # funding
    return sides, pair


# what the checks derive from the words and keep in the parsed dump (``invariants.books_of``,
# ``totals_of``): a broken dump is derived afresh
DERIVED = ("books", "totals")


def holding(parsed: dict) -> int:
    """The index of an account with a long on market 0."""
    return next(i for i, a in enumerate(parsed["accounts"]) if a[SIZE] > 0)


def with_account(parsed: dict, i: int, **words) -> dict:
    account = list(parsed["accounts"][i])
    for at, value in words.items():
        account[{"collateral": 0, "size": SIZE, "entry": ENTRY, "checkpoint": CHECKPOINT}[at]] = (
            value
        )
    accounts = list(parsed["accounts"])
    accounts[i] = tuple(account)
    return {k: v for k, v in parsed.items() if k not in DERIVED} | {"accounts": accounts}


def with_market(parsed: dict, **fields) -> dict:
    markets = [dict(m) for m in parsed["markets"]]
    markets[0].update(fields)
    return {k: v for k, v in parsed.items() if k not in DERIVED} | {"markets": markets}


def with_fund(parsed: dict, fund: int, bad_debt: int) -> dict:
    """The fund and bad debt changed, the engine's balance with them (custody holds)."""
    moved = fund - parsed["fund"] - bad_debt + parsed["bad_debt"]
    balance = parsed["engine_balance"] + moved
    return parsed | {"fund": fund, "bad_debt": bad_debt, "engine_balance": balance}


def breakages(parsed: dict) -> dict:
    i = holding(parsed)
    account = parsed["accounts"][i]
    flat = next(j for j, a in enumerate(parsed["accounts"]) if not any(a[1::4]) and j != i)
    market = parsed["markets"][0]
    return {
        "custody": with_account(parsed, i, collateral=account[0] + 1),
        "balanced_sides": with_market(parsed, open_interest=market["open_interest"] + 1),
        "fund_non_negative": with_fund(parsed, -1, 0),
        "fund_before_bad_debt": with_fund(parsed, 5, 5),
        "no_orphan_deficit": with_account(parsed, flat, collateral=-1)
        | {"engine_balance": parsed["engine_balance"] - parsed["accounts"][flat][0] - 1},
        "funding_zero_sum": with_market(
            parsed, funding_residue=market["funding_residue"] + FUNDING_INDEX_SCALE
        )
        | {"engine_balance": parsed["engine_balance"] + 1},  # custody holds
    }


@pytest.mark.parametrize("side", ["spec", "chain"])
def test_each_state_invariant_fires_in_its_field(parsed_sides, side):
    sides, _ = parsed_sides
    parsed = sides[side]
    assert parsed["accounts"] == sides["spec" if side == "chain" else "chain"]["accounts"]
    invariants.check_state(parsed, side)  # as it is: holds
    invariants.check_funding_zero_sum(parsed, {}, side)
    for name, broken in breakages(parsed).items():
        with pytest.raises(InvariantViolation) as raised:
            invariants.check_state(broken, side)
            invariants.check_funding_zero_sum(broken, {}, side)
        assert raised.value.name == name, (name, str(raised.value))


def test_a_remembered_account_is_priced_afresh(parsed_sides):
    """The same account words at another price give other books (the memo's key holds
    each market's price and funding index); the sides still balance (PnL is zero-sum)."""
    sides, _ = parsed_sides
    parsed = sides["spec"]
    total = invariants.check_state(parsed, "spec")
    i = holding(parsed)
    moved = with_market(parsed, price=parsed["markets"][0]["price"] + 1)
    assert invariants.check_state(moved, "spec") == total
    before, after = invariants.books_of(parsed)[i], invariants.books_of(moved)[i]
    assert after.unsettled - before.unsettled == parsed["accounts"][i][SIZE]


def test_totals_kept_up_to_date_equal_the_sums(embedded_pair, monkeypatch):
    """``Pair.spec_parsed`` keeps the spec's ``Totals`` account by account (it swaps only
    the accounts a call changed): after every call of random campaign sequences, they
    equal the totals summed afresh from every account's books."""
    compared = []
    check = CheckedSequence._check

    def compare(self, parsed, side):
        if side == "spec" and "totals" in parsed:
            fresh = {k: v for k, v in parsed.items() if k != "totals"}
            assert parsed["totals"] == invariants.totals_of(fresh), len(compared)
            compared.append(parsed["totals"].held)
        return check(self, parsed, side)

    monkeypatch.setattr(CheckedSequence, "_check", compare)
    explore(DifferentialMachine.bind(embedded_pair, Stats()), 5, 8, 60)
    assert len(compared) > 300
    assert any(any(held) for held in compared)  # positions were open
