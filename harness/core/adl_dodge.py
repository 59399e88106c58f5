"""No dodge (issue 19): once a deficit is public, a winner's own call never lowers what the
deleverage charges it by more than the call cost it.

After every successful trade, exit, withdrawal, deposit or liquidation made while an
account with a position is bankrupt, each acting account that held a position in profit
in a market with a bankrupt holder is judged: the deleverage of every bankrupt account
(lowest address first, each to its last position) is replayed on copies of the state
before and after the call, and what the actor absorbs in each is compared.

- ``adl_no_dodge``: its charge in those markets after the call, plus what the call cost
  it (fees, a worse price than the oracle's, a haircut: its equity plus wallet before
  less after), is at least its charge before, within two units per replayed call (lots
  and charges are two water-fills), one for the funding the call settled, and what the
  call added to the fund (which covers first, for everyone).

A liquidator is judged in every market, as a trader is: a takeover anywhere adds to its
account's maintenance, which shrinks its queue cap in the deficit's market (a review
found 470.01 USDC charged instead of 891.63). The liquidated account, which does not
choose the call, is judged in the liquidated market only, where its position is taken
over. Elsewhere a liquidation moves charges the way any caller's would: a bankrupt piece
the fund covers, or a co-winner's equity share restored by the fund, changes who absorbs
what (a 10.87 USDC shift in a 60 s campaign), whoever calls.

A deposit is judged too: under the leverage-weighted policy it would lower the winner's
weight, and the gate holds it (``engine._require_no_dodge``); under the others it only
raises caps.
"""

from __future__ import annotations

from collections import Counter

from harness.core.invariants import check as holds
from harness.core.recompute import capacity, equity
from pyspec import engine
from pyspec.errors import Revert
from pyspec.state import State

ACTS = ("settle", "take_exit", "withdraw", "deposit", "liquidate")


def check(fn: str, args: tuple, caller: str, before: State, after: State, events: list) -> None:
    """After a successful ``fn(*args)`` by ``caller``."""
    if fn not in ACTS:
        return
    judged = {}
    for actor in _actors(fn, args, caller, events):
        exposed = [m for m in _winning_markets(before, actor) if _has_bankrupt(before, m)]
        if fn == "liquidate" and actor != caller:  # forced: judged where it is taken over
            exposed = [m for m in exposed if m == args[1]]
        if exposed:
            judged[actor] = exposed
    if not judged:  # no actor wins where a holder is bankrupt (none is, often)
        return
    bankrupt = sorted(
        (a for a, acc in before.accounts.items() if acc.positions and equity(before, a) < 0),
        key=lambda a: int(a, 16),
    )
    charged_before, calls_before = _replay(before, bankrupt)  # once for every actor
    charged_after, calls_after = _replay(after, bankrupt)
    # two units per call (lots and charges are two water-fills, each a remainder), one for
    # the funding the call settled, and what it added to the fund (fees, funding residue):
    # the fund covers first, for everyone
    calls = max(calls_before, calls_after)
    unit = 2 * calls + 1 + max(after.insurance_fund - before.insurance_fund, 0)
    for actor, exposed in judged.items():
        cost = max(_wealth(before, actor) - _wealth(after, actor), 0)
        was = sum(charged_before[actor, m] for m in exposed)
        now = sum(charged_after[actor, m] for m in exposed)
        holds(
            "adl_no_dodge",
            now + cost + unit >= was,
            f"{fn} by {actor} while {bankrupt} are bankrupt: the deleverage charges it {now} "
            f"in markets {exposed} after the call, {was} before; the call cost it {cost} "
            f"(unit {unit})",
        )


def _actors(fn: str, args: tuple, caller: str, events: list) -> list[str]:
    """The accounts whose own positions or equity the call moved: a liquidation moves the
    liquidated account's position as much as the liquidator's (a winner below maintenance
    could have a flat sybil take its profitable position over)."""
    if fn in ("settle", "take_exit"):
        trade = next(a for name, a in events if name == "Trade")
        return [trade[0], trade[1]]
    if fn == "liquidate":
        return [caller, args[0]]
    return [caller]


def _winning_markets(state: State, address: str) -> list[int]:
    account = state.accounts.get(address)
    return (
        [m for m in sorted(account.positions) if capacity(state, address, m) > 0] if account else []
    )


def _has_bankrupt(state: State, market_id: int) -> bool:
    market = state.markets[market_id]
    return not market.settled and any(equity(state, h) < 0 for h in market.holders)


def _wealth(state: State, address: str) -> int:
    return equity(state, address) + state.token.balance_of(address)


def _replay(state: State, bankrupt: list[str]) -> tuple[Counter, int]:
    """Deleverage every account of ``bankrupt`` still bankrupt, lowest address first, each
    until it holds nothing, on a copy; what each counterparty absorbed in each market, and
    the calls."""
    state, charged, calls = state.copy(), Counter(), 0
    for address in bankrupt:
        while state.accounts[address].positions and equity(state, address) < 0:
            state.events.clear()
            try:
                engine.process_deleverage(state, state.timelock.owner, address)
            except Revert:
                break
            calls += 1
            for name, args in state.events:
                if name == "Deleverage":
                    charged[args[1], args[2]] += args[5]
    return charged, calls
