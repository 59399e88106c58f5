"""The privileged entry points: listing, parameter changes, roles, the guardian's pause,
delisting, the fund's withdrawal, and the oracle's prices and funding rates.

Contract: ``contracts/EngineGovernance.vy``, whose code the engine runs in its own storage
by delegatecall (its ``__default__``): these are the engine's entry points. Listing is the
Governor's owner's, at once; prices and funding rates are the oracle's; every other
change here answers only the Governor (``pyspec/governor.py``), so it comes a whole delay
after it was announced.
"""

from pyspec import funding, margin
from pyspec.checks import (
    end_resolved_round,
    push,
    require_fresh,
    require_live,
    require_market,
    solvent_holders,
)
from pyspec.constants import (
    ADL_POLICY_COUNT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_MARKETS,
    MAX_MIN_POSITION_NOTIONAL,
    MAX_PRICE,
    MAX_PRICE_AGE,
    RATIO_PRECISION,
)
from pyspec.errors import require
from pyspec.keccak import keccak
from pyspec.state import Market, State


def _require_governor(state: State, caller: str) -> None:
    """Role and parameter changes come through the timelock only.

    Contract: ``EngineGovernance._require_governor``."""
    require(caller == state.governor, "auth: not governor")


def _require_owner(state: State, caller: str) -> None:
    """The Governor's owner: listing and fund withdrawals need no delay.

    Contract: ``EngineGovernance._require_owner``."""
    require(caller == state.timelock.owner, "auth: not owner")


# The fields of ``MarketParams`` (``AdlAllocator.MarketParams``), in ABI order.
MARKET_PARAMS = (
    "initial_margin_ratio",
    "maintenance_margin_ratio",
    "liquidation_fee_ratio",
    "price_band_ratio",
    "max_funding_rate",
    "maker_fee_ratio",
    "taker_fee_ratio",
    "adl_policy",
    "max_price_age",
    "min_position_notional",
)


def _check_params(params: tuple) -> None:
    """The bounds every listing and every parameter change keeps.

    Contract: ``AdlAllocator.check_market_params`` (the engine's stateless companion, out
    of its EIP-170 budget; the engine's call passes the reason on).
    """
    (im, mm, liquidation_fee, band, max_funding, maker, taker, policy, age, min_notional) = params
    require(0 < mm < im <= RATIO_PRECISION, "market: invalid margin ratios")
    require(liquidation_fee < mm, "market: invalid liquidation fee")
    require(0 < band <= RATIO_PRECISION, "market: invalid price band")
    require(max_funding <= MAX_FUNDING_RATE, "market: invalid funding bound")
    require(maker <= MAX_FEE_RATIO and taker <= MAX_FEE_RATIO, "market: invalid fees")
    require(policy < ADL_POLICY_COUNT, "market: invalid adl policy")
    require(0 < age <= MAX_PRICE_AGE, "market: invalid price age")
    require(min_notional <= MAX_MIN_POSITION_NOTIONAL, "market: invalid minimum notional")


def process_add_market(state: State, caller: str, params: tuple, asset: bytes) -> None:
    """List a market with its parameters (``MARKET_PARAMS``): through the Governor's
    timelock; the Governor's owner lists at once only while the engine holds no tokens
    (the deployment's markets), since a listing binds the shared fund (N6: a 1-ppm-margin
    market drained it). A listing takes a new slot while there is one, then the lowest
    slot of a settled market no position holds any more (N1: six kills used the slots
    up). Its key, slot + MAX_MARKETS x generation, names this listing and no other: the
    generation is ``next_generation`` of the slot's previous one, the parameters and the
    asset (``asset``: bytes32, what the market trades, which the key must tell apart),
    except for the deployment's own listings into new slots (generation 0, key = slot),
    so an order or a Governor call made for another listing, settled or not yet made,
    never lands on this one (``market_slot``). Contract: ``EngineGovernance.add_market``."""
    if caller != state.governor:
        _require_owner(state, caller)
        require(state.token.balance_of(state.address) == 0, "market: listing needs the timelock")
    market_id = _free_slot(state)
    require(market_id < MAX_MARKETS, "market: too many markets")
    _check_params(params)
    fresh = market_id == len(state.markets)
    if fresh:
        state.markets.append(Market(*params))
    else:
        # a new market in a freed slot: its index, residue and last price time go on
        market = state.markets[market_id]
        market.settled, market.paused, market.price = False, False, 0
    market = state.markets[market_id]
    if caller == state.governor or not fresh:  # a deployment's listing keeps generation 0
        market.generation = next_generation(market.generation, params, asset)
    market.funding_timestamp = state.timestamp
    state.events.append(("MarketAdded", (market_id, market_key(state, market_id), asset)))
    for name, value in zip(MARKET_PARAMS, params, strict=True):
        setattr(market, name, value)
    state.events.append(("MarketParamsSet", (market_id, *params)))


def next_generation(previous: int, params: tuple, asset: bytes) -> int:
    """keccak256(abi.encode(previous, params, asset)) >> 3 (so that slot + MAX_MARKETS x
    it fits a word): a listing's generation binds its asset, its parameters and the
    listing it follows in its slot. A trader who signs for a listing not made yet
    (announced by the Governor's schedule) signs for exactly that asset with those
    parameters in that slot, after that predecessor; any other listing landing there (a
    review found two assets on one risk tier sharing a key before the asset was hashed)
    has another key, and the order never fills on it (issue 18).
    Contract: ``EngineGovernance.add_market``."""
    words = b"".join(word.to_bytes(32, "big") for word in (previous, *params))
    return int.from_bytes(keccak(words + asset), "big") >> 3


def _free_slot(state: State) -> int:
    """A new slot while there is one, then the lowest slot of a settled market that no
    position holds any more (anyone settles a holder's positions there: ``deleverage``);
    ``MAX_MARKETS`` when there is none. Contract: ``EngineGovernance._free_slot``."""
    if len(state.markets) < MAX_MARKETS:
        return len(state.markets)
    for slot, market in enumerate(state.markets):
        if market.settled and not market.holders:
            return slot
    return MAX_MARKETS


def market_slot(state: State, market_key: int) -> int:
    """The slot of the listing ``market_key`` names: slot + MAX_MARKETS x generation (the
    slot itself for a deployment's listing). What is decided ahead names the listing, not the
    slot (a signed order, a Governor call setting parameters or delisting), so it never
    lands on a later market listed in the same slot. Contract:
    ``EngineGovernance._market_slot``, ``Settlement._market_slot``."""
    slot = market_key % MAX_MARKETS
    listed = (
        slot < len(state.markets) and market_key // MAX_MARKETS == state.markets[slot].generation
    )
    require(listed, "market: unknown market")
    return slot


def market_key(state: State, slot: int) -> int:
    """The key of the market listed in ``slot`` now (``market_slot``'s inverse)."""
    return slot + MAX_MARKETS * state.markets[slot].generation


def process_set_market_params(state: State, caller: str, market_key: int, params: tuple) -> None:
    """Change a live market's parameters, its ADL policy included (the Governor only, so
    after its delay), within the listing bounds. The index first accrues at the old rate;
    a rate above a lowered bound is clamped to it.

    The market is named by its key (``market_slot``): a change scheduled for a market
    settled since never applies to the next one listed in its slot.

    Contract: ``EngineGovernance.set_market_params``. Anchor: GMX v2 ``Timelock.sol``: traders
    see a change coming for the whole delay and can leave before it applies.
    """
    _require_governor(state, caller)
    market_id = market_slot(state, market_key)
    require_live(state, market_id)
    _check_params(params)
    margin.accrue_funding(state, market_id)
    market = state.markets[market_id]
    market.funding_rate = funding.clamp_funding_rate(market.funding_rate, params[4])
    for name, value in zip(MARKET_PARAMS, params, strict=True):
        setattr(market, name, value)
    state.events.append(("MarketParamsSet", (market_id, *params)))


def process_set_oracle(state: State, caller: str, oracle: str) -> None:
    """Name the oracle (the Governor only). Contract: ``EngineGovernance.set_oracle``."""
    _require_governor(state, caller)
    state.oracle = oracle
    state.events.append(("OracleSet", (oracle,)))


def process_set_guardian(state: State, caller: str, guardian: str) -> None:
    """Name the guardian (the Governor only). Contract: ``EngineGovernance.set_guardian``."""
    _require_governor(state, caller)
    state.guardian = guardian
    state.events.append(("GuardianSet", (guardian,)))


def process_delist_market(state: State, caller: str, market_key: int) -> None:
    """Final settlement: freeze the market at its oracle price, by the Governor or by the
    Settlement when an unserved exit request escapes, and only at a fresh price (N3): a
    settlement at a stale price moves value to the side the old price favours. When the
    oracle is the party that vanished, the fallback is the Governor naming another
    (``set_oracle``, after its delay); until a fresh price is published nothing settles.
    Settlement waits until no holder of the market is bankrupt at that price (N2): anyone
    deleverages the bankrupt accounts first, through the live waterfall, so a loser's
    deficit is charged to the market's winners under its ADL policy as it would be live,
    never to the fund or bad debt while a winner keeps the profit. Funding stops; each
    position settles at that price when its account is next touched
    (``_settle``): the same price for all, so the realized profits and losses sum to zero.
    The market is named by its key (``market_slot``), as in ``set_market_params``.

    Contract: ``EngineGovernance.delist_market``. Anchors: dYdX v4 final settlement (positions
    closed at the oracle price), Drift's settlement at an expiry price.
    """
    require(caller in (state.governor, state.settlement), "auth: not governor")
    market_id = market_slot(state, market_key)
    market = require_live(state, market_id)
    require(market.price > 0, "market: no price")
    require_fresh(state, market_id)
    # N2: every bankruptcy goes through the live waterfall (fund, ADL, loss rule) before
    # the market freezes, so nobody gains by reaching settlement instead of deleverage
    require(solvent_holders(state, market_id, 0), "market: bankrupt holder")
    margin.accrue_funding(state, market_id)
    market.funding_rate = 0
    market.settled = True
    state.events.append(("MarketSettled", (market_id, market.price)))


def process_withdraw_insurance(state: State, caller: str, amount: int) -> None:
    """Governance withdrawal to the Governor's owner, through the timelock (N6: announced a
    whole exit path ahead, never sprung in front of a price move), never below the floor,
    and never while bad debt is known: recorded, or an account holding a position at
    negative equity (a scan of every market's holders). Contract:
    ``EngineGovernance.withdraw_insurance``.
    """
    require(caller == state.governor, "auth: not governor")
    receiver = state.timelock.owner
    require(amount > 0, "insurance: zero amount")
    require(state.bad_debt == 0, "insurance: bad debt pending")
    for market_id, market in enumerate(state.markets):
        if market.holders:
            require_fresh(state, market_id)
        require(solvent_holders(state, market_id, 0), "insurance: bad debt pending")
    require(state.insurance_fund >= amount + state.insurance_floor, "insurance: below floor")
    state.insurance_fund -= amount
    push(state, receiver, amount)
    state.events.append(("InsuranceWithdrawal", (receiver, amount)))


def process_update_price(
    state: State, caller: str, market_id: int, price: int, timestamp: int
) -> None:
    """Publish an oracle price, then end every side's round that no bankrupt holder is
    opposite any more: a price may rescue the last one, in any market its holders hold
    (issue 19; before, the round stayed open until a winner of the side acted or a holder
    deposited, and its records met a later bankruptcy: 208.37 USDC drawn at 20,000 lots
    in the second review's case). Contract: ``EngineGovernance.update_price``."""
    require(caller == state.oracle, "auth: not oracle")
    market = require_live(state, market_id)
    require(price > 0, "oracle: zero price")
    require(price <= MAX_PRICE, "oracle: price too large")
    require(timestamp > market.price_timestamp, "oracle: stale timestamp")
    require(timestamp <= state.timestamp, "oracle: future timestamp")
    margin.accrue_funding(state, market_id)
    market.price = price
    market.price_timestamp = timestamp
    for other in range(len(state.markets)):
        end_resolved_round(state, other, 1)
        end_resolved_round(state, other, -1)
    state.events.append(("PriceUpdated", (market_id, price, timestamp)))


def process_set_funding_rate(state: State, caller: str, market_id: int, rate: int) -> None:
    """Set the funding rate paid from now on, clamped to the market's bound; the index
    first accrues at the old rate. Contract: ``EngineGovernance.set_funding_rate``.

    The oracle derives the rate from the premium of the traded price over the index; the
    bound caps what that trust can cost a position: max_funding_rate x 3600 x price per
    lot and hour, whatever the number of calls.
    """
    require(caller == state.oracle, "auth: not oracle")
    market = require_live(state, market_id)
    require(market.price > 0, "market: no price")
    require_fresh(state, market_id)
    margin.accrue_funding(state, market_id)
    applied = funding.clamp_funding_rate(rate, market.max_funding_rate)
    market.funding_rate = applied
    state.events.append(("FundingRateSet", (market_id, rate, applied, market.funding_index)))


def process_set_market_paused(state: State, caller: str, market_id: int, paused: bool) -> None:
    """Pause a market: no trade may add risk, while reductions, deposits, withdrawals of
    free collateral, liquidation and ADL go on; or resume it.

    Contract: ``EngineGovernance.set_market_paused``. Anchor: Drift v2's per-operation market
    pauses (``MarketStatus``), which keep reduce-only trading and liquidation open.
    """
    require(caller == state.guardian, "auth: not guardian")
    market = require_market(state, market_id)
    market.paused = paused
    state.events.append(("MarketPaused", (market_id, paused)))
