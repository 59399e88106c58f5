"""The bad-input catalogue (issue 12): every state-changing function of the engine, the
Settlement and the Governor against every class of bad input, each with the reason both
sides give.

``ENTRIES`` is the catalogue; ``render`` writes it as ``docs/bad-inputs.md``.
``tests/cases/test_bad_inputs.py`` runs every entry on the spec and on both chains (its
pre-calls must succeed, its last call must revert with the reason, and nothing may change)
and fails when a function of either ABI is missing. Every privileged function is tried by
every role that does not hold its privilege.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_utils import function_signature_to_4byte_selector

from harness.core import orders
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import USDC
from harness.evm import artifacts
from harness.vectors.bad_input_calls import (
    AFTER_AN_HOUR,
    ASSET,
    CALLERS,
    DELAY,
    FUND_ABOVE_FLOOR,
    MAX_UINT256,
    PRICE,
    UNKNOWN,
    ZERO,
    add,
    after_delisting,
    below_floor,
    cancel_by,
    cancelled,
    change,
    delisted,
    engine,
    fixed,
    funded,
    governed,
    governor,
    in_small_market,
    leveraged,
    listing,
    maker_signature,
    maker_signed,
    match,
    now,
    opened,
    paused,
    price_call,
    requested,
    same_fill_twice,
    stamped_price,
    sub_minimum_takeover,
    with_maker,
)
from pyspec.constants import (
    ADL_POLICY_COUNT,
    EXIT_DELAY,
    EXIT_WINDOW,
    GOVERNANCE_GRACE_PERIOD,
    MAX_DEPOSIT,
    MAX_FEE_RATIO,
    MAX_FUNDING_RATE,
    MAX_MARKETS,
    MAX_MIN_POSITION_NOTIONAL,
    MAX_PRICE,
    MAX_PRICE_AGE,
    MAX_TRADE_SIZE,
    RATIO_PRECISION,
)


@dataclass(frozen=True)
class Entry:
    """``build(state, actors)`` returns the calls: pre-calls that succeed, then the bad
    call, which reverts with ``reason``."""

    contract: str
    fn: str
    kind: str
    detail: str
    reason: str
    build: Callable

    @property
    def name(self) -> str:
        return f"{self.contract}.{self.fn}: {self.kind}: {self.detail}"


# -- the catalogue -----------------------------------------------------------------------

# privileged function: (contract, authorized actor, reason, valid arguments); the
# "governor" is the Governor contract, so every externally owned caller is refused
PRIVILEGED = (
    ("engine", "add_market", "owner", "auth: not owner", (listing(), ASSET)),
    ("engine", "set_market_params", "governor", "auth: not governor", (0, listing())),
    ("engine", "set_oracle", "governor", "auth: not governor", ("trader7",)),
    ("engine", "set_guardian", "governor", "auth: not governor", ("trader7",)),
    ("engine", "delist_market", "governor", "auth: not governor", (0,)),
    ("engine", "set_market_paused", "owner", "auth: not guardian", (0, True)),
    ("engine", "update_price", "oracle", "auth: not oracle", None),
    ("engine", "set_funding_rate", "oracle", "auth: not oracle", (0, 100)),
    ("engine", "withdraw_insurance", "governor", "auth: not governor", (1,)),
    ("settlement", "set_operator", "governor", "auth: not governor", ("trader7",)),
    ("governor", "schedule", "owner", "auth: not owner",
     ("engine", Calldata("set_guardian", ("trader7",)))),
    ("governor", "cancel", "owner", "auth: not owner", (b"\x01" * 32,)),
    ("governor", "transfer_ownership", "owner", "auth: not owner", ("trader7",)),
)  # fmt: skip


def unauthorized() -> list[Entry]:
    out = []
    for contract, fn, holder, reason, args in PRIVILEGED:
        for caller in CALLERS:
            if caller == holder:
                continue
            build = (
                stamped_price(caller) if args is None else fixed(Call(contract, fn, caller, args))
            )
            out.append(Entry(contract, fn, "unauthorized", f"called by {caller}", reason, build))
    for caller in CALLERS:  # only the Settlement contract settles trades
        call = engine("settle_trade", caller, "trader0", "trader1", 0, 1, PRICE, True)
        build = fixed(*funded("trader0", "trader1"), call)
        detail = f"called by {caller}, not the Settlement"
        out.append(
            Entry("engine", "settle_trade", "unauthorized", detail, "auth: not settlement", build)
        )
    for caller in ("owner", "oracle", "outsider", "trader0"):
        detail = f"called by {caller}"
        out.append(
            Entry(
                "settlement",
                "settle",
                "unauthorized",
                detail,
                "auth: not operator",
                match(sender=caller),
            )
        )
    pending = "auth: not pending owner"
    out.append(
        Entry(
            "governor",
            "accept_ownership",
            "unauthorized",
            "no pending owner named",
            pending,
            fixed(governor("accept_ownership", "trader7")),
        )
    )
    named = fixed(
        governor("transfer_ownership", "owner", "trader7"),
        governor("accept_ownership", "outsider"),
    )
    out.append(
        Entry(
            "governor", "accept_ownership", "unauthorized", "another account named", pending, named
        )
    )
    return out


def E(contract, fn, kind, detail, reason, build) -> Entry:  # noqa: N802 (a table row)
    return Entry(contract, fn, kind, detail, reason, build)


# set_oracle(address(0)) as raw calldata, to append a byte to
SET_ORACLE_TO_ZERO = function_signature_to_4byte_selector("set_oracle(address)") + bytes(32)


# fmt: off
ENTRIES: list[Entry] = [
    *unauthorized(),
    E("engine", "add_market", "zero", "maintenance margin 0", "market: invalid margin ratios",
      add(maintenance_margin_ratio=0, liquidation_fee_ratio=0)),
    E("engine", "add_market", "maximum + 1", "initial margin above 100%",
      "market: invalid margin ratios",
      add(initial_margin_ratio=RATIO_PRECISION + 1)),
    E("engine", "add_market", "boundary", "maintenance equal to initial",
      "market: invalid margin ratios",
      add(maintenance_margin_ratio=100000)),
    E("engine", "add_market", "boundary", "liquidation fee equal to maintenance",
      "market: invalid liquidation fee",
      add(liquidation_fee_ratio=50000)),
    E("engine", "add_market", "zero", "price band 0", "market: invalid price band",
      add(price_band_ratio=0)),
    E("engine", "add_market", "maximum + 1", "price band above 100%", "market: invalid price band",
      add(price_band_ratio=RATIO_PRECISION + 1)),
    E("engine", "add_market", "maximum + 1", "funding bound MAX_FUNDING_RATE + 1",
      "market: invalid funding bound",
      add(max_funding_rate=MAX_FUNDING_RATE + 1)),
    E("engine", "add_market", "maximum + 1", "taker fee MAX_FEE_RATIO + 1", "market: invalid fees",
      add(taker_fee_ratio=MAX_FEE_RATIO + 1)),
    E("engine", "add_market", "unknown id", "ADL policy ADL_POLICY_COUNT",
      "market: invalid adl policy",
      add(adl_policy=ADL_POLICY_COUNT)),
    E("engine", "add_market", "zero", "maximum price age 0", "market: invalid price age",
      add(max_price_age=0)),
    E("engine", "add_market", "maximum + 1", "maximum price age a week + 1 s",
      "market: invalid price age",
      add(max_price_age=MAX_PRICE_AGE + 1)),
    E("engine", "add_market", "maximum + 1", f"market {MAX_MARKETS + 1}",
      "market: too many markets",
      fixed(*governed("add_market", listing(), ASSET) * (MAX_MARKETS - UNKNOWN + 1))),
    E("engine", "add_market", "maximum + 1", "minimum notional MAX_MIN_POSITION_NOTIONAL + 1",
      "market: invalid minimum notional",
      add(min_position_notional=MAX_MIN_POSITION_NOTIONAL + 1)),
    E("engine", "set_market_params", "boundary", "maintenance equal to initial",
      "market: invalid margin ratios", change(maintenance_margin_ratio=100000)),
    E("engine", "set_market_params", "zero", "price band 0", "market: invalid price band",
      change(price_band_ratio=0)),
    E("engine", "set_market_params", "maximum + 1", "funding bound MAX_FUNDING_RATE + 1",
      "market: invalid funding bound", change(max_funding_rate=MAX_FUNDING_RATE + 1)),
    E("engine", "set_market_params", "unknown id", "ADL policy ADL_POLICY_COUNT",
      "market: invalid adl policy", change(adl_policy=ADL_POLICY_COUNT)),
    E("engine", "set_market_params", "maximum + 1",
      "minimum notional MAX_MIN_POSITION_NOTIONAL + 1",
      "market: invalid minimum notional",
      change(min_position_notional=MAX_MIN_POSITION_NOTIONAL + 1)),
    E("engine", "set_market_params", "settled", "a delisted market", "market: settled",
      now([*delisted(0), *governed("set_market_params", 0, listing())])),
    # a call for a market names one listed now: the Governor refuses to schedule another
    # (the engine's own check, at execution, sees a listing that changed since: tests/cases)
    *(
        E("governor", "schedule", "unknown id", f"{fn} for {what}", "market: unknown market",
          fixed(governor("schedule", "owner", "engine", Calldata(fn, args))))
        for what, key in (("market 2", UNKNOWN),
                          ("key MAX_MARKETS: a listing of market 0's slot not made", MAX_MARKETS))
        for fn, args in (("set_market_params", (key, listing())), ("delist_market", (key,)))
    ),
    E("engine", "delist_market", "stale", "its price aged by the delay", "oracle: stale price",
      fixed(*governed("delist_market", 0))),
    E("engine", "delist_market", "settled", "a market already delisted", "market: settled",
      now([*delisted(0), *governed("delist_market", 0)])),
    E("engine", "set_market_paused", "unknown id", "market 2", "market: unknown market",
      fixed(engine("set_market_paused", "owner", UNKNOWN, True))),
    E("engine", "set_market_paused", "unauthorized", "the former guardian, once another is named",
      "auth: not guardian",
      fixed(
          *governed("set_guardian", "trader7"),
          engine("set_market_paused", "owner", 0, True),
      )),
    E("engine", "set_oracle", "unauthorized", "the former oracle, once another is named",
      "auth: not oracle",
      fixed(*governed("set_oracle", "trader7"), engine("set_funding_rate", "oracle", 0, 1))),
    E("engine", "set_guardian", "unauthorized", "the guardian itself (only the Governor names one)",
      "auth: not governor",
      fixed(
          *governed("set_guardian", "trader7"),
          engine("set_guardian", "trader7", "trader6"),
      )),
    E("governor", "transfer_ownership", "unauthorized", "the former owner, after the handover",
      "auth: not owner",
      fixed(
          governor("transfer_ownership", "owner", "trader7"),
          governor("accept_ownership", "trader7"),
          governor("transfer_ownership", "owner", "owner"),
      )),
    E("governor", "schedule", "unknown id", "a call outside the allowlist (a token transfer)",
      "governor: call not allowed",
      fixed(governor("schedule", "owner", "engine", bytes.fromhex("a9059cbb")))),
    E("governor", "schedule", "zero", "empty calldata", "governor: call not allowed",
      fixed(governor("schedule", "owner", "engine", b""))),
    E("governor", "schedule", "maximum + 1", "an allowed call with a trailing byte",
      "governor: call not allowed",
      fixed(governor("schedule", "owner", "engine", SET_ORACLE_TO_ZERO + b"\x00"))),
    E("governor", "schedule", "unknown id", "an allowed call sent to the wrong contract",
      "governor: call not allowed",
      fixed(governor("schedule", "owner", "settlement", Calldata("set_oracle", ("trader7",))))),
    E("governor", "schedule", "replayed", "the same call while it is scheduled",
      "governor: already scheduled",
      fixed(*[governor("schedule", "owner", "engine", Calldata("set_oracle", ("trader7",)))] * 2)),
    E("governor", "execute", "unknown id", "a call never scheduled", "governor: not scheduled",
      fixed(governor("execute", "outsider", "engine", Calldata("set_oracle", ("trader7",))))),
    E("governor", "execute", "boundary", "one second before the delay ends",
      "governor: too early",
      fixed(*governed("set_oracle", "trader7", wait=DELAY - 1))),
    E("governor", "execute", "expired", "one second after the grace period",
      "governor: expired",
      fixed(*governed("set_oracle", "trader7", wait=DELAY + GOVERNANCE_GRACE_PERIOD + 1))),
    E("governor", "execute", "replayed", "a call already executed", "governor: not scheduled",
      fixed(
          *governed("set_oracle", "oracle"),
          governor("execute", "outsider", "engine", Calldata("set_oracle", ("oracle",))),
      )),
    E("governor", "cancel", "unknown id", "a call never scheduled", "governor: not scheduled",
      fixed(governor("cancel", "owner", b"\x01" * 32))),
    E("engine", "update_price", "unknown id", "market 2", "market: unknown market",
      price_call(0, market=UNKNOWN)),
    E("engine", "update_price", "zero", "price 0", "oracle: zero price", price_call(0, price=0)),
    E("engine", "update_price", "maximum + 1", "price MAX_PRICE + 1", "oracle: price too large",
      price_call(0, price=MAX_PRICE + 1)),
    E("engine", "update_price", "stale", "timestamp not after the last price's",
      "oracle: stale timestamp",
      price_call(-1)),
    E("engine", "update_price", "maximum", "timestamp 2^256 - 1, after the block time",
      "oracle: future timestamp",
      fixed(engine("update_price", "oracle", 0, PRICE, MAX_UINT256))),
    E("engine", "set_funding_rate", "unknown id", "market 2", "market: unknown market",
      fixed(engine("set_funding_rate", "oracle", UNKNOWN, 1))),
    E("engine", "set_funding_rate", "unknown id", "a listed market never priced",
      "market: no price",
      fixed(
          *governed("add_market", listing(), ASSET),
          engine("set_funding_rate", "oracle", UNKNOWN, 1),
      )),
    E("engine", "update_price", "settled", "a delisted market", "market: settled",
      now([*delisted(0), Call(CLOCK, "wait", "", (1,)),
           engine("update_price", "oracle", 0, PRICE, "now")])),
    E("engine", "set_funding_rate", "settled", "a delisted market", "market: settled",
      now([*delisted(0), engine("set_funding_rate", "oracle", 0, 1)])),
    E("engine", "set_funding_rate", "stale", "price older than the maximum age",
      "oracle: stale price",
      fixed(AFTER_AN_HOUR, engine("set_funding_rate", "oracle", 0, 1))),
    E("engine", "deposit", "zero", "amount 0", "deposit: zero amount",
      fixed(engine("deposit", "trader0", 0))),
    E("engine", "deposit", "maximum + 1", "MAX_DEPOSIT + 1", "deposit: amount too large",
      fixed(engine("deposit", "trader0", MAX_DEPOSIT + 1))),
    E("engine", "deposit", "maximum", "2^256 - 1", "deposit: amount too large",
      fixed(engine("deposit", "trader0", MAX_UINT256))),
    E("engine", "deposit", "unauthorized", "no allowance (the oracle approved nothing)",
      "token: insufficient allowance",
      fixed(engine("deposit", "oracle", 1))),
    E("engine", "withdraw", "zero", "amount 0", "withdraw: zero amount",
      fixed(engine("withdraw", "trader0", 0))),
    E("engine", "withdraw", "one", "1 unit from an empty account",
      "withdraw: insufficient collateral",
      fixed(engine("withdraw", "trader0", 1))),
    E("engine", "withdraw", "maximum", "2^256 - 1", "withdraw: insufficient collateral",
      fixed(*funded("trader0"), engine("withdraw", "trader0", MAX_UINT256))),
    E("engine", "withdraw", "boundary", "all collateral under an open 9x position",
      "withdraw: below initial margin",
      leveraged(engine("withdraw", "trader0", 500 * USDC))),
    E("engine", "withdraw", "stale", "an open position, its price older than the maximum age",
      "oracle: stale price",
      opened(AFTER_AN_HOUR, engine("withdraw", "trader0", 1))),
    E("engine", "liquidate", "unknown id", "market 2", "market: unknown market",
      leveraged(engine("liquidate", "trader1", "trader0", UNKNOWN, 1))),
    E("engine", "liquidate", "zero", "max size 0", "liquidate: zero size",
      leveraged(engine("liquidate", "trader1", "trader0", 0, 0))),
    E("engine", "liquidate", "unknown id", "an account without a position",
      "liquidate: no position",
      fixed(engine("liquidate", "trader1", "trader2", 0, 1))),
    E("engine", "liquidate", "boundary", "a healthy account", "liquidate: account healthy",
      leveraged(engine("liquidate", "trader1", "trader0", 0, 1))),
    E("engine", "liquidate", "boundary", "one lot taken over below the minimum notional",
      "liquidate: position too small", sub_minimum_takeover),
    E("engine", "liquidate", "stale", "its price older than the maximum age", "oracle: stale price",
      leveraged(AFTER_AN_HOUR, engine("liquidate", "trader1", "trader0", 0, 1))),
    E("engine", "deleverage", "unknown id", "an account without a position", "adl: no position",
      fixed(engine("deleverage", "trader1", "trader2"))),
    E("engine", "deleverage", "boundary", "an account not bankrupt", "adl: account not bankrupt",
      leveraged(engine("deleverage", "trader1", "trader0"))),
    E("engine", "top_up_insurance", "zero", "amount 0", "insurance: zero amount",
      fixed(engine("top_up_insurance", "trader0", 0))),
    E("engine", "top_up_insurance", "maximum + 1", "MAX_DEPOSIT + 1", "insurance: amount too large",
      fixed(engine("top_up_insurance", "trader0", MAX_DEPOSIT + 1))),
    E("engine", "add_market", "unauthorized", "by the owner at once, the engine holding tokens",
      "market: listing needs the timelock",
      fixed(engine("add_market", "owner", listing(), ASSET))),
    E("engine", "withdraw_insurance", "zero", "amount 0", "insurance: zero amount",
      fixed(*governed("withdraw_insurance", 0))),
    E("engine", "withdraw_insurance", "boundary", "1 unit below the floor",
      "insurance: below floor",
      fixed(*governed("withdraw_insurance", FUND_ABOVE_FLOOR + 1))),
    E("engine", "withdraw_insurance", "maximum", "2^256 - 1", "insurance: below floor",
      fixed(*governed("withdraw_insurance", MAX_UINT256))),
    E("settlement", "settle", "zero", "size 0", "trade: zero size", match(size=0)),
    E("settlement", "settle", "maximum + 1", "size MAX_TRADE_SIZE + 1", "trade: size too large",
      match(size=MAX_TRADE_SIZE + 1)),
    E("settlement", "settle", "maximum + 1", "price MAX_PRICE + 1 (beyond the band too)",
      "trade: price too large",
      match(price=MAX_PRICE + 1)),
    E("settlement", "settle", "unknown id", "market 2", "market: unknown market",
      match(market=UNKNOWN)),
    E("settlement", "settle", "unknown id",
      "orders for key MAX_MARKETS: a listing of market 0's slot not made",
      "market: unknown market",
      match(market=MAX_MARKETS)),
    E("settlement", "settle", "paused", "an opening trade in a paused market",
      "trade: market paused",
      match(paused)),
    E("settlement", "settle", "expired", "the maker's order past its expiry",
      "order: expired",
      match(with_maker(expiry=0))),
    E("settlement", "settle", "expired", "the maker's order below its nonce floor",
      "order: nonce invalidated",
      match(below_floor)),
    E("settlement", "settle", "expired", "the maker's order cancelled", "order: cancelled",
      match(cancelled)),
    E("settlement", "settle", "maximum + 1", "a fill one lot beyond the maker's order",
      "order: overfilled",
      match(with_maker(size=9))),
    E("settlement", "settle", "replayed", "the same match again", "order: overfilled",
      match(same_fill_twice)),
    E("settlement", "settle", "boundary", "a price one unit beyond the maker's limit",
      "order: price beyond limit",
      match(with_maker(limit_price=PRICE + 1))),
    E("settlement", "settle", "wrong domain", "signed for chain 1", "order: invalid signature",
      match(maker_signed(chain_id=1))),
    E("settlement", "settle", "wrong domain", "signed for another verifying contract",
      "order: invalid signature",
      match(maker_signed(verifying_contract=ZERO))),
    E("settlement", "settle", "wrong signer", "signed by the taker", "order: invalid signature",
      match(maker_signed(signer_actor="trader0"))),
    E("settlement", "settle", "malformed", "the high-s twin of a valid signature",
      "order: invalid signature",
      match(maker_signature(orders.high_s_twin))),
    E("settlement", "settle", "malformed", "64 bytes", "order: invalid signature",
      match(maker_signature(lambda sig: sig[:64]))),
    E("settlement", "settle", "malformed", "v = 0", "order: invalid signature",
      match(maker_signature(lambda sig: sig[:64] + bytes([0])))),
    E("settlement", "settle", "boundary", "a reduce-only order that would open",
      "order: not reduce-only",
      match(with_maker(reduce_only=True))),
    E("settlement", "settle", "unknown id", "orders for different markets",
      "order: market mismatch",
      match(with_maker(market=1))),
    E("settlement", "settle", "boundary", "two buys", "order: same side",
      match(with_maker(is_buy=True))),
    E("settlement", "settle", "settled", "a trade in a delisted market", "market: settled",
      match(after_delisting)),
    E("settlement", "settle", "boundary", "a 10 USDC position where the minimum is 100 USDC",
      "trade: buyer position too small",
      match(in_small_market, market=UNKNOWN)),
    E("settlement", "request_exit", "unknown id", "no position", "exit: no position",
      fixed(Call("settlement", "request_exit", "trader0", (0,)))),
    E("settlement", "request_exit", "unknown id", "market 2", "exit: no position",
      fixed(Call("settlement", "request_exit", "trader0", (UNKNOWN,)))),
    E("settlement", "take_exit", "unknown id", "no request", "exit: not requested",
      opened(Call("settlement", "take_exit", "trader2", ("trader0", 0)))),
    E("settlement", "take_exit", "unauthorized", "by the trader itself", "trade: self-trade",
      requested(Call("settlement", "take_exit", "trader0", ("trader0", 0)))),
    E("settlement", "take_exit", "paused", "a takeover that adds risk in a paused market",
      "trade: market paused",
      requested(*funded("trader2"), engine("set_market_paused", "owner", 0, True),
                Call("settlement", "take_exit", "trader2", ("trader0", 0)))),
    E("settlement", "take_exit", "stale", "its price older than the maximum age",
      "oracle: stale price",
      requested(AFTER_AN_HOUR, Call("settlement", "take_exit", "trader2", ("trader0", 0)))),
    E("settlement", "take_exit", "replayed", "a request already taken", "exit: not requested",
      requested(*funded("trader2"),
                Call("settlement", "take_exit", "trader2", ("trader0", 0)),
                Call("settlement", "take_exit", "trader2", ("trader0", 0)))),
    E("settlement", "escape", "unknown id", "no request", "exit: not requested",
      opened(Call("settlement", "escape", "outsider", ("trader0", 0)))),
    E("settlement", "escape", "boundary", "one second before the deadline", "exit: too early",
      requested(Call(CLOCK, "wait", "", (EXIT_DELAY - 1,)),
                Call("settlement", "escape", "outsider", ("trader0", 0)))),
    E("settlement", "escape", "boundary", "a match in the request's own second",
      "exit: operator active",
      requested(Call(CLOCK, "wait", "", (EXIT_DELAY,)),
                Call("settlement", "escape", "outsider", ("trader0", 0)))),
    E("settlement", "escape", "expired", "one second after the request lapsed", "exit: expired",
      requested(Call(CLOCK, "wait", "", (EXIT_DELAY + EXIT_WINDOW + 1,)),
                Call("settlement", "escape", "outsider", ("trader0", 0)))),
    E("settlement", "escape", "stale", "unserved for a day, the price as old",
      "oracle: stale price",
      lambda state, actors: [
          *match()(state, actors),
          Call(CLOCK, "wait", "", (1,)),
          Call("settlement", "request_exit", "trader0", (0,)),
          Call(CLOCK, "wait", "", (EXIT_DELAY,)),
          Call("settlement", "escape", "outsider", ("trader0", 0)),
      ]),
    E("settlement", "take_exit", "expired", "one second after the request lapsed",
      "exit: expired",
      requested(Call(CLOCK, "wait", "", (EXIT_DELAY + EXIT_WINDOW + 1,)),
                Call("settlement", "take_exit", "trader2", ("trader0", 0)))),
    E("settlement", "cancel_exit", "unknown id", "no request", "exit: not requested",
      opened(Call("settlement", "cancel_exit", "trader0", (0,)))),
    E("settlement", "cancel_exit", "replayed", "a request already withdrawn",
      "exit: not requested",
      requested(Call("settlement", "cancel_exit", "trader0", (0,)),
                Call("settlement", "cancel_exit", "trader0", (0,)))),
    E("settlement", "cancel_order", "unauthorized", "by another account than its trader",
      "order: not signer",
      lambda state, actors: [cancel_by("trader1", state, actors)]),
    E("settlement", "cancel_order", "replayed", "an order already cancelled",
      "order: already cancelled",
      lambda state, actors: [cancel_by("trader0", state, actors)] * 2),
    E("settlement", "invalidate_nonces", "zero", "nonce floor 0 (not above the current)",
      "order: nonce not increasing",
      fixed(Call("settlement", "invalidate_nonces", "trader0", (0,)))),
]
# fmt: on


def functions() -> set[tuple[str, str]]:
    """Every state-changing function of the engine, the Settlement and the Governor, from
    their ABIs."""
    return {
        (contract, item["name"])
        for contract, name in (
            ("engine", "PerpEngine"),
            ("settlement", "Settlement"),
            ("governor", "Governor"),
        )
        for item in artifacts.load(name).abi
        if item.get("type") == "function" and item.get("stateMutability") not in ("view", "pure")
    }


def render() -> str:
    """``docs/bad-inputs.md``."""
    lines = [
        "# Bad inputs",
        "",
        "Every state-changing function of the engine, the Settlement and the Governor against "
        "every class "
        "of bad input, with the reason both the spec and the contracts give. Generated from "
        "`harness/vectors/catalogue.py` by `make vectors`; `tests/cases/test_bad_inputs.py` "
        "runs each entry on the spec and on both chains (the call reverts with the reason and "
        "changes nothing) and fails when a function is missing.",
        "",
        f"{len(ENTRIES)} entries over {len(functions())} functions.",
    ]
    order = {"engine": 0, "settlement": 1, "governor": 2}
    for contract, fn in sorted(functions(), key=lambda cf: (order[cf[0]], cf[1])):
        lines += ["", f"## `{contract}.{fn}`", "", "| class | input | reason |", "|---|---|---|"]
        for entry in ENTRIES:
            if (entry.contract, entry.fn) == (contract, fn):
                lines.append(f"| {entry.kind} | {entry.detail} | `{entry.reason}` |")
    return "\n".join(lines) + "\n"
