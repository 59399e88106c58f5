"""Protocol state. Contract: ``contracts/engine/storage.vy``.

Accounts are keyed by lowercase 0x-hex address. A position whose size is zero is
absent (the contract stores it as all-zero fields).
"""

from dataclasses import dataclass, field

from pyspec.token import ZERO_ADDRESS, Token


@dataclass(slots=True)
class Position:
    """A signed size in lots with its cost basis and settlement checkpoints."""

    size: int = 0
    entry_notional: int = 0  # signed: what opening cost (+ long, - short)
    funding_checkpoint: int = 0  # the market's funding index when last settled
    last_fill: int = 0  # the engine's fill counter at the fill that last changed it (N1)
    # The round's ADL record (issue 19), counted while its side's round lasts
    # (``margin.adl_record_live``); any other fill ends it.
    adl_round: int = 0  # its side's round (``Market.long_adl_round``) when it was made
    adl_paid: int = 0  # what ADL charged it in the round (the round's apportionment)
    adl_profit: int = 0  # profit ADL fills realized into collateral and no charge took


@dataclass(slots=True)
class Market:
    """Risk parameters, oracle price and books of one market."""

    initial_margin_ratio: int
    maintenance_margin_ratio: int
    liquidation_fee_ratio: int
    price_band_ratio: int
    max_funding_rate: int  # the funding rate is clamped to +/- this (per second)
    maker_fee_ratio: int
    taker_fee_ratio: int
    adl_policy: int  # ADL_POLICY_* (pyspec/adl_allocator.py)
    max_price_age: int  # a risk-relevant action needs a price no older (seconds)
    min_position_notional: int  # a trade leaves a position at zero or at least this
    price: int = 0
    price_timestamp: int = 0
    open_interest: int = 0  # sum of long sizes (= sum of short sizes)
    funding_index: int = 0  # funding per lot paid by longs to shorts (scaled), cumulative
    funding_residue: int = 0  # rounding kept from settlements, in index units, < scale
    funding_rate: int = 0  # per second, parts per FUNDING_RATE_PRECISION of the price
    funding_timestamp: int = 0  # when the index last accrued
    paused: bool = False  # by the guardian: no trade may add risk
    settled: bool = False  # delisted: every position settles at ``price``, lazily
    # Listings of this slot before this one: a settled market with no position left frees
    # its slot, and what is decided ahead names the listing (``governance.market_slot``).
    generation: int = 0
    # Each side's ADL round (issue 19): odd while a deleverage's records on that side may
    # be charged, even once a deleverage or a deficit gate scan of the side found no
    # bankrupt holder opposite (``margin.open_adl_round``, ``margin.end_adl_round``).
    long_adl_round: int = 0
    short_adl_round: int = 0
    holders: list[str] = field(default_factory=list)  # accounts with an open position


@dataclass(slots=True)
class Account:
    collateral: int = 0  # signed: realized losses may take it below zero
    positions: dict[int, Position] = field(default_factory=dict)
    # What others paid for its deficit while it kept positions: repaid first (M-1).
    booked: int = 0
    # New money (issue 18): collateral deposited while bad debt was recorded, in the loss
    # epoch ``fresh_epoch``, that the account still holds; it counts only in the epoch
    # it was deposited in (``margin.new_money``).
    fresh: int = 0
    fresh_epoch: int = 0


@dataclass(slots=True)
class OrderBook:
    """The Settlement contract's storage (``contracts/Settlement.vy``; its rules are in
    ``pyspec/settlement.py``)."""

    address: str  # the Settlement contract: the EIP-712 verifying contract
    chain_id: int
    operator: str
    filled: dict[bytes, int] = field(default_factory=dict)  # lots per digest, <= order size
    cancelled: dict[bytes, bool] = field(default_factory=dict)
    min_nonce: dict[str, int] = field(default_factory=dict)  # lower nonces are void
    touched: list[bytes] = field(default_factory=list)  # digests filled or cancelled, in order
    # Standing exit requests: (trader, market) -> (position size, its last fill, deadline).
    exit_requests: dict[tuple[str, int], tuple[int, int, int]] = field(default_factory=dict)
    # Block time of the latest operator match or exit takeover: an escape needs none since
    # its request (the operator is gone and nobody takes exits).
    last_trade_time: int = 0

    def copy(self) -> "OrderBook":
        """Return an independent copy (used to roll a rejected call back)."""
        return OrderBook(
            self.address,
            self.chain_id,
            self.operator,
            dict(self.filled),
            dict(self.cancelled),
            dict(self.min_nonce),
            list(self.touched),
            dict(self.exit_requests),
            self.last_trade_time,
        )


@dataclass(slots=True)
class Timelock:
    """The Governor contract's storage (``contracts/Governor.vy``; its rules are in
    ``pyspec/governor.py``)."""

    address: str
    engine: str
    settlement: str
    delay: int  # seconds between scheduling a call and its earliest execution
    owner: str
    pending_owner: str = ZERO_ADDRESS  # named by the owner, the owner once it accepts
    eta: dict[bytes, int] = field(default_factory=dict)  # call id -> earliest time; absent: none
    touched: list[bytes] = field(default_factory=list)  # call ids scheduled, in order
    # the latest call id scheduled of each kind (``governor.kind``): the next supersedes it
    latest: dict[bytes, bytes] = field(default_factory=dict)

    def copy(self) -> "Timelock":
        """Return an independent copy (used to roll a rejected call back)."""
        return Timelock(
            self.address,
            self.engine,
            self.settlement,
            self.delay,
            self.owner,
            self.pending_owner,
            dict(self.eta),
            list(self.touched),
            dict(self.latest),
        )


@dataclass(slots=True)
class State:
    address: str  # the engine's address: custodian of all collateral
    token: Token
    governor: str  # the timelock: the only caller of role and parameter changes
    oracle: str
    settlement: str  # the only caller of settle_trade: the signed-order contract
    liquidator_share_ratio: int  # share of a liquidation penalty paid to the liquidator
    insurance_floor: int  # governance cannot withdraw the fund below this
    timestamp: int = 0  # block time of the call being run (block.timestamp)
    guardian: str = ""  # pauses and resumes markets; the deployer until named
    insurance_fund: int = 0
    # Deficit of closed bankrupt accounts that neither the fund nor ADL covered; repaid
    # first by everything that flows into the fund.
    bad_debt: int = 0
    # Fills applied so far: each stamps the position it changes (``Position.last_fill``),
    # so a position's identity never repeats, whatever its size does.
    fill_count: int = 0
    markets: list[Market] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    events: list = field(default_factory=list)
    # The signed-order contract's storage (pyspec/settlement.py), beside the engine's.
    book: OrderBook | None = None
    # The Governor contract's storage (pyspec/governor.py).
    timelock: Timelock | None = None
    # Recorded losses so far: each bad debt recorded starts a new epoch, in which the
    # new money of earlier epochs is old (issue 18, ``margin.lapse_new_money``).
    loss_epoch: int = 0
    # The new money of the current epoch, summed over accounts (the loss rule's F).
    fresh_total: int = 0

    def copy(self) -> "State":
        """Return an independent copy (used to roll a rejected call back)."""
        events = list(self.events)
        token = self.token.copy()
        token.events = events
        markets = [
            Market(
                m.initial_margin_ratio,
                m.maintenance_margin_ratio,
                m.liquidation_fee_ratio,
                m.price_band_ratio,
                m.max_funding_rate,
                m.maker_fee_ratio,
                m.taker_fee_ratio,
                m.adl_policy,
                m.max_price_age,
                m.min_position_notional,
                m.price,
                m.price_timestamp,
                m.open_interest,
                m.funding_index,
                m.funding_residue,
                m.funding_rate,
                m.funding_timestamp,
                m.paused,
                m.settled,
                m.generation,
                m.long_adl_round,
                m.short_adl_round,
                list(m.holders),
            )
            for m in self.markets
        ]
        accounts = {
            a: Account(
                acc.collateral,
                {
                    i: Position(
                        p.size,
                        p.entry_notional,
                        p.funding_checkpoint,
                        p.last_fill,
                        p.adl_round,
                        p.adl_paid,
                        p.adl_profit,
                    )
                    for i, p in acc.positions.items()
                },
                acc.booked,
                acc.fresh,
                acc.fresh_epoch,
            )
            for a, acc in self.accounts.items()
        }
        return State(
            self.address,
            token,
            self.governor,
            self.oracle,
            self.settlement,
            self.liquidator_share_ratio,
            self.insurance_floor,
            self.timestamp,
            self.guardian,
            self.insurance_fund,
            self.bad_debt,
            self.fill_count,
            markets,
            accounts,
            events,
            self.book.copy() if self.book is not None else None,
            self.timelock.copy() if self.timelock is not None else None,
            self.loss_epoch,
            self.fresh_total,
        )


def get_account(state: State, address: str) -> Account:
    """Return the account at ``address``, creating an empty one on first touch."""
    account = state.accounts.get(address)
    if account is None:
        account = state.accounts[address] = Account()
    return account


def get_position(state: State, address: str, market_id: int) -> Position:
    """Return the position (all-zero when none is open)."""
    account = state.accounts.get(address)
    if account is None:
        return Position()
    return account.positions.get(market_id, Position())
