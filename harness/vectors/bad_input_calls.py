"""The calls the bad-input catalogue's entries are built from (``catalogue.py``): funded
accounts, signed matches with one defect, calls through the Governor, delisted markets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from deployment.config import asset_id
from harness.core import orders
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import DEFAULT_CONFIG, USDC
from pyspec.constants import MAX_MARKETS
from pyspec.governance import next_generation

MAX_UINT256 = 2**256 - 1
ZERO = "0x" + "00" * 20
# Every externally owned role and a plain trader: who tries the privileged functions.
CALLERS = ("owner", "oracle", "operator", "outsider", "trader0")
PRICE = DEFAULT_CONFIG.markets[0].initial_price
UNKNOWN = len(DEFAULT_CONFIG.markets)  # the first unlisted market id
ASSET = asset_id("market-new")  # what a listing here trades
DELAY = DEFAULT_CONFIG.governance_delay


def engine(fn: str, sender: str, *args) -> Call:
    return Call("engine", fn, sender, args)


def fixed(*calls: Call) -> Callable:
    """A build that needs no state."""
    return lambda state, actors: list(calls)


def listing(**changes) -> tuple:
    return replace(DEFAULT_CONFIG.markets[0], **changes).listing()


def funded(*traders: str) -> list[Call]:
    return [engine("deposit", t, 10_000 * USDC) for t in traders]


# -- signed matches -----------------------------------------------------------------------


def match(defect: Callable | None = None, sender: str = "operator", **fill) -> Callable:
    """A 10-lot match of trader1's sell (maker) and trader0's buy at the oracle price,
    after both deposited; ``defect(state, actors, maker, taker, size, price)`` returns the
    pre-calls and the changed (maker, taker, signatures, size, price)."""

    def build(state, actors):
        size, price = fill.get("size", 10), fill.get("price", PRICE)
        market = fill.get("market", 0)
        maker = orders.make_order(state, actors["trader1"], market, False, size, price)
        taker = orders.make_order(state, actors["trader0"], market, True, size, price)
        pre, signatures = [], {}
        if defect is not None:
            pre, maker, taker, signatures, size, price = defect(
                state, actors, maker, taker, size, price
            )
        call = orders.settle_call(state, actors, maker, taker, size, price, sender, **signatures)
        return [*funded("trader0", "trader1"), *pre, call]

    return build


def with_maker(**changes) -> Callable:
    def defect(state, actors, maker, taker, size, price):
        return [], replace(maker, **changes), taker, {}, size, price

    return defect


def maker_signed(**how) -> Callable:
    def defect(state, actors, maker, taker, size, price):
        signer = how.pop("signer_actor", None)
        if signer is not None:
            how["signer"] = actors[signer]
        signature = orders.sign(state.book, maker, **how)
        return [], maker, taker, {"maker_signature": signature}, size, price

    return defect


def maker_signature(transform: Callable) -> Callable:
    def defect(state, actors, maker, taker, size, price):
        signature = transform(orders.sign(state.book, maker))
        return [], maker, taker, {"maker_signature": signature}, size, price

    return defect


def cancelled(state, actors, maker, taker, size, price):
    names = {a: n for n, a in actors.items()}
    cancel = Call("settlement", "cancel_order", "trader1", (orders.named_order(maker, names),))
    return [cancel], maker, taker, {}, size, price


def below_floor(state, actors, maker, taker, size, price):
    floor = Call("settlement", "invalidate_nonces", "trader1", (maker.nonce + 1,))
    return [floor], maker, taker, {}, size, price


def governor(fn: str, sender: str, *args) -> Call:
    return Call("governor", fn, sender, args)


def governed(fn: str, *args, target: str = "engine", wait: int = DELAY) -> list[Call]:
    """Schedule ``fn(*args)`` through the Governor, wait ``wait`` seconds, execute it."""
    data = Calldata(fn, args)
    return [
        governor("schedule", "owner", target, data),
        Call(CLOCK, "wait", "", (wait,)),
        governor("execute", "outsider", target, data),
    ]


def refreshed() -> list[Call]:
    """Both markets priced again now (after a wait that aged their prices)."""
    return [
        Call(CLOCK, "wait", "", (1,)),
        *(
            engine("update_price", "oracle", m, market.initial_price, "now")
            for m, market in enumerate(DEFAULT_CONFIG.markets)
        ),
    ]


def now(calls: list[Call]) -> Callable:
    """A build whose price stamps say "now": each becomes the block time it runs at."""

    def build(state, actors):
        out, clock = [], state.timestamp
        for call in calls:
            if call.target == CLOCK:
                clock += call.args[0]
            if call.fn == "update_price" and call.args[2] == "now":
                call = engine("update_price", call.sender, call.args[0], call.args[1], clock)
            out.append(call)
        return out

    return build


def delisted(market: int = 0) -> list[Call]:
    """The Governor delists ``market`` (its price fresh when the delay has passed)."""
    data = Calldata("delist_market", (market,))
    return [
        governor("schedule", "owner", "engine", data),
        Call(CLOCK, "wait", "", (DELAY,)),
        *refreshed(),
        governor("execute", "outsider", "engine", data),
    ]


def after_delisting(state, actors, maker, taker, size, price):
    far = state.timestamp + 3 * DELAY  # the orders outlive the delisting's delay
    pre = now(delisted(0))(state, actors)
    return pre, replace(maker, expiry=far), replace(taker, expiry=far), {}, size, price


def paused(state, actors, maker, taker, size, price):
    return [engine("set_market_paused", "owner", 0, True)], maker, taker, {}, size, price


def same_fill_twice(state, actors, maker, taker, size, price):
    first = orders.settle_call(state, actors, maker, taker, size, price)
    return [first], maker, taker, {}, size, price


def stamped_price(caller: str) -> Callable:
    """``caller`` publishes market 0's price a second later (a valid stamp)."""
    return lambda state, actors: [
        Call(CLOCK, "wait", "", (1,)),
        engine("update_price", caller, 0, PRICE, state.timestamp + 1),
    ]


def stale(then: Call) -> Callable:
    """``then`` after an hour and a second without a price (market 0's max age)."""
    return fixed(*funded("trader0", "trader1"), Call(CLOCK, "wait", "", (3_601,)), then)


def price_call(delta: int, price: int = PRICE, market: int = 0) -> Callable:
    return lambda state, actors: [
        Call(CLOCK, "wait", "", (1,)),
        engine("update_price", "oracle", market, price, state.timestamp + 1 + delta),
    ]


def add(**changes) -> Callable:
    """A listing through the Governor (N6): the engine's reason comes back through
    ``execute``."""
    return fixed(*governed("add_market", listing(**changes), ASSET))


def change(**changes) -> Callable:
    """Market 0's parameters changed through the Governor: the engine's reason comes
    back through ``execute``."""
    return fixed(*governed("set_market_params", 0, listing(**changes)))


def in_small_market(state, actors, maker, taker, size, price):
    """Market 2 listed through the Governor with a 100 USDC minimum notional and priced a
    second later; the orders, signed for the announced listing's key (issue 18: its
    parameters after slot 2's generation 0), outlive the delay."""
    far = state.timestamp + 3 * DELAY
    params = listing(min_position_notional=100 * USDC)
    pre = [
        *governed("add_market", params, ASSET),
        Call(CLOCK, "wait", "", (1,)),
        engine("update_price", "oracle", UNKNOWN, PRICE, state.timestamp + DELAY + 1),
    ]
    key = UNKNOWN + MAX_MARKETS * next_generation(0, params, ASSET)
    maker, taker = (replace(o, market=key, expiry=far) for o in (maker, taker))
    return pre, maker, taker, {}, size, price


def requested(*then: Call) -> Callable:
    """A 10-lot match (trader0 long), trader0 asks to exit, then ``then``."""
    request = Call("settlement", "request_exit", "trader0", (0,))
    return lambda state, actors: [*match()(state, actors), request, *then]


def opened(*then: Call) -> Callable:
    """A 10-lot match (trader0 long, trader1 short), then ``then``."""
    return lambda state, actors: [*match()(state, actors), *then]


def leveraged(*then: Call) -> Callable:
    """trader0 long 9,000 lots with 1,000 USDC (9x) against trader1, then ``then``."""

    def build(state, actors):
        buy = orders.make_order(state, actors["trader0"], 0, True, 9_000, PRICE)
        sell = orders.make_order(state, actors["trader1"], 0, False, 9_000, PRICE)
        trade = orders.settle_call(state, actors, sell, buy, 9_000, PRICE)
        deposits = [engine("deposit", t, 1_000 * USDC) for t in ("trader0", "trader1")]
        return [*deposits, trade, *then]

    return build


def sub_minimum_takeover(state, actors) -> list[Call]:
    """N7: market 0's minimum notional raised to 100 USDC through the Governor, trader0
    (9x long) falls below maintenance at 0.93, and trader2 tries to take one lot over."""
    minimum = listing(min_position_notional=100 * USDC)
    calls = leveraged(*governed("set_market_params", 0, minimum), *refreshed())(state, actors)
    return now(
        [
            *calls,
            engine("deposit", "trader2", 100 * USDC),
            Call(CLOCK, "wait", "", (1,)),
            engine("update_price", "oracle", 0, 930_000, "now"),
            engine("liquidate", "trader2", "trader0", 0, 1),
        ]
    )(state, actors)


AFTER_AN_HOUR = Call(CLOCK, "wait", "", (3_601,))
FUND_ABOVE_FLOOR = 900 * USDC  # the setup's 1,000 USDC top-up over the 100 USDC floor


def cancel_by(sender: str, state, actors) -> Call:
    order = orders.make_order(state, actors["trader0"], 0, True, 1, PRICE)
    names = {a: n for n, a in actors.items()}
    return Call("settlement", "cancel_order", sender, (orders.named_order(order, names),))
