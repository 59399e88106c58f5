"""The differential state machine: random action sequences applied to spec and chain.

Rules are the protocol's public calls, with valid and invalid inputs. Choices that need
the current state (who is liquidatable, how large a trade the buyer can afford) read the
spec, which drives accounts to high leverage and prices through crashes and spikes so
that every branch of the solvency waterfall is reached.
"""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from harness import coverage
from harness.protocol import Call, Protocol
from harness.runner import VIEWS, Runner
from pyspec import engine, margin, views
from pyspec.constants import MAX_DEPOSIT, MAX_FEE_RATIO, MAX_PRICE, RATIO_PRECISION
from pyspec.errors import Revert

USDC = 10**6

amounts = st.one_of(
    st.integers(1, 20_000 * USDC),
    st.sampled_from([0, 1, MAX_DEPOSIT, MAX_DEPOSIT + 1, 2**256 - 1]),
)
# Relative price moves in parts per RATIO_PRECISION: drifts, crashes and spikes. Sampled
# from a grid (hypothesis biases plain integer ranges toward their bounds) plus jitter.
PRICE_MOVE_STEPS = (
    -700_000, -400_000, -200_000, -100_000, -60_000, -30_000, -10_000,
    10_000, 30_000, 60_000, 100_000, 200_000, 500_000, 1_000_000,
)  # fmt: skip
price_moves = st.builds(
    lambda step, jitter: step + jitter,
    st.sampled_from(PRICE_MOVE_STEPS),
    st.integers(-5_000, 5_000),
)
# Share of the affordable size a trade takes, in percent.
LEVERAGE_USE_PERCENT = (10, 25, 50, 75, 90, 95, 100, 105)
leverage_use = st.sampled_from(LEVERAGE_USE_PERCENT)


# How often each action is chosen: hypothesis picks rules uniformly (and switches some
# off per example), which starves the waterfall; one weighted rule keeps it fed.
ACTION_WEIGHTS = {
    "trade": 30,
    "move_price": 15,
    "liquidate": 15,
    "deleverage": 8,
    "deposit": 8,
    "withdraw": 8,
    "withdraw_insurance": 6,
    "top_up_insurance": 4,
    "check_views": 3,
    "update_funding": 8,
    "list_market": 1,
}
actions = st.sampled_from([name for name, weight in ACTION_WEIGHTS.items() for _ in range(weight)])


_nine_in_ten = st.sampled_from([True] * 9 + [False])
_one_in_four = st.sampled_from([False, False, False, True])


def mostly(data, valid, invalid):
    """Draw from ``valid`` nine times in ten and from ``invalid`` otherwise."""
    return data.draw(valid if data.draw(_nine_in_ten) else invalid)


class DifferentialMachine(RuleBasedStateMachine):
    """Bind ``protocol`` and ``stats`` with ``bind`` before running."""

    protocol: Protocol
    stats: coverage.Stats

    @classmethod
    def bind(cls, protocol: Protocol, stats: coverage.Stats | None = None):
        return type(
            cls.__name__, (cls,), {"protocol": protocol, "stats": stats or coverage.Stats()}
        )

    def __init__(self):
        super().__init__()
        self.stats.sequences += 1
        self.p = self.protocol
        self.runner = Runner(self.protocol, self.stats)

    @property
    def state(self):
        return self.p.state

    def call(self, target: str, fn: str, sender: str, *args):
        """Apply one call to spec and chain; the runner checks every invariant."""
        return self.runner.call(Call(target, fn, sender, args))

    def free(self, who: str) -> int:
        return views.free_collateral(self.state, self.p.address(who))

    def traders(self):
        return st.sampled_from(self.p.traders)

    # -- rules ------------------------------------------------------------------------
    @rule(data=st.data(), action=actions)
    def act(self, data, action):
        """One public call, chosen with the weights of ``ACTION_WEIGHTS``."""
        getattr(self, action)(data)

    @initialize(data=st.data())
    def fund_traders(self, data):
        """Every trader starts with collateral, so sequences reach leverage quickly."""
        for trader in self.p.traders:
            self.call("engine", "deposit", trader, data.draw(st.integers(500, 20_000)) * USDC)

    def deposit(self, data):
        amount = data.draw(amounts)
        who = data.draw(st.sampled_from([*self.p.traders, "outsider"]))
        self.call("engine", "deposit", who, amount)

    def withdraw(self, data):
        who = data.draw(self.traders())
        free = views.free_collateral(self.state, self.p.address(who))
        amount = mostly(
            data,
            st.integers(1, max(free, 1)),
            st.one_of(st.integers(free, free + 10 * USDC), amounts),
        )
        self.call("engine", "withdraw", who, amount)

    def trade(self, data):
        n = len(self.state.markets)
        buyer = data.draw(self.traders())
        others = [t for t in self.p.traders if t != buyer]
        seller = mostly(data, st.sampled_from(others), st.just(buyer))
        market_id = mostly(data, st.integers(0, n - 1), st.just(n))
        caller = mostly(data, st.just("operator"), st.just("outsider"))
        buyer_is_taker = data.draw(st.booleans())
        if market_id < n:
            market = self.state.markets[market_id]
            band = market.price_band_ratio
            deviation = mostly(data, st.integers(-band, band), st.integers(-2 * band, 2 * band))
            price = max(market.price + market.price * deviation // RATIO_PRECISION, 0)
            # Size near what the poorer side can afford: trades run at high leverage.
            free = min(self.free(buyer), self.free(seller))
            affordable = free * RATIO_PRECISION // max(price * market.initial_margin_ratio, 1)
            size = mostly(
                data,
                leverage_use.map(lambda percent: max(affordable * percent // 100, 1)),
                st.sampled_from([0, 10**9 + 1]),
            )
        else:
            price, size = 1_000_000, 1
        trade = Call(
            "engine",
            "settle_trade",
            caller,
            (buyer, seller, market_id, size, price, buyer_is_taker),
        )
        if data.draw(_one_in_four):
            self._to_boundary(data.draw(st.sampled_from([buyer, seller])), trade)
        self.runner.call(trade)

    def move_price(self, data):
        move = data.draw(price_moves)
        n = len(self.state.markets)
        market_id = data.draw(st.integers(0, n - 1))
        market = self.state.markets[market_id]
        price = max(market.price + market.price * move // RATIO_PRECISION, 1)
        kind = data.draw(
            st.sampled_from(["ok"] * 12 + ["stale", "zero", "huge", "outsider", "unknown"])
        )
        timestamp = market.price_timestamp + (0 if kind == "stale" else 1)
        price = {"zero": 0, "huge": MAX_PRICE + data.draw(st.sampled_from([0, 1]))}.get(kind, price)
        caller = "outsider" if kind == "outsider" else "oracle"
        self.call(
            "engine",
            "update_price",
            caller,
            n if kind == "unknown" else market_id,
            price,
            timestamp,
        )

    def _to_boundary(self, actor: str, call: Call) -> None:
        """Withdraw exactly what ``actor`` would have above its initial margin after
        ``call``, so that the call then lands on the margin boundary (where a check
        written with the wrong comparison differs)."""
        trial = self.state.copy()
        caller = self.p.address(call.sender)
        try:
            getattr(engine, "process_" + call.fn)(trial, caller, *self.p.resolve(call.args))
        except Revert:
            return
        address = self.p.address(actor)
        slack = margin.equity(trial, address) - margin.initial_margin(trial, address)
        if slack > 0:
            self.call("engine", "withdraw", actor, slack)

    def list_market(self, data):
        """List a market, with parameters at and across their bounds."""
        imr = data.draw(st.sampled_from([1, 50_000, 100_000, RATIO_PRECISION, RATIO_PRECISION + 1]))
        mmr = data.draw(st.sampled_from([0, 1, max(imr - 1, 0), imr]))
        fee = data.draw(st.sampled_from([0, max(mmr - 1, 0), mmr]))
        band = data.draw(st.sampled_from([0, 1, 50_000, RATIO_PRECISION, RATIO_PRECISION + 1]))
        funding_bound = data.draw(st.sampled_from([0, 5_000, RATIO_PRECISION, RATIO_PRECISION + 1]))
        fees = st.sampled_from([0, 500, MAX_FEE_RATIO, MAX_FEE_RATIO + 1])
        maker, taker = data.draw(fees), data.draw(fees)
        caller = mostly(data, st.just("owner"), st.just("outsider"))
        self.call("engine", "add_market", caller, imr, mmr, fee, band, funding_bound, maker, taker)

    def _pick_account(self, data, predicate):
        """Mostly an account the predicate flags (when there is one), else any trader."""
        flagged = [t for t in self.p.traders if predicate(t)]
        if flagged and data.draw(_nine_in_ten):
            return data.draw(st.sampled_from(flagged))
        return data.draw(self.traders())

    def _pick_market(self, data, who):
        account = self.state.accounts.get(self.p.address(who))
        held = sorted(account.positions) if account else []
        n = len(self.state.markets)
        return mostly(data, st.sampled_from(held), st.integers(0, n)) if held else n

    def liquidate(self, data):
        target = self._pick_account(
            data, lambda t: margin.is_liquidatable(self.state, self.p.address(t))
        )
        richest = max((t for t in self.p.traders if t != target), key=self.free)
        liquidator = mostly(data, st.just(richest), st.sampled_from(self.p.traders))
        market_id = self._pick_market(data, target)
        liquidation = Call("engine", "liquidate", liquidator, (target, market_id))
        if data.draw(_one_in_four):
            self._to_boundary(liquidator, liquidation)
        self.runner.call(liquidation)

    def deleverage(self, data):
        target = self._pick_account(
            data, lambda t: margin.equity(self.state, self.p.address(t)) < 0
        )
        keeper = data.draw(st.sampled_from([*self.p.traders, "outsider"]))
        market_id = self._pick_market(data, target)
        self.call("engine", "deleverage", keeper, target, market_id)

    def top_up_insurance(self, data):
        amount = data.draw(amounts)
        who = data.draw(st.sampled_from([*self.p.traders, "outsider", "owner"]))
        self.call("engine", "top_up_insurance", who, amount)

    def update_funding(self, data):
        """A funding rate, often beyond the market's bound (the contract clamps it)."""
        n = len(self.state.markets)
        market_id = mostly(data, st.integers(0, n - 1), st.just(n))
        bound = self.state.markets[min(market_id, n - 1)].max_funding_rate
        rate = data.draw(
            st.one_of(
                st.integers(-bound, bound),
                st.sampled_from([-bound - 1, bound + 1, -(10**6), 10**6, -(2**255), 2**255 - 1]),
            )
        )
        caller = mostly(data, st.just("operator"), st.just("outsider"))
        self.call("engine", "update_funding", caller, market_id, rate)

    def check_views(self, data):
        """Compare the trader-facing views (equity, margins, liquidation and bankruptcy
        prices, ADL rank and quantile) of one or two traders between spec and chain."""
        who = data.draw(st.lists(self.traders(), min_size=1, max_size=2, unique=True))
        self.call(VIEWS, "check_views", "operator", *who)

    def withdraw_insurance(self, data):
        available = max(self.state.insurance_fund - self.state.insurance_floor, 0)
        amount = mostly(
            data, st.integers(1, max(available, 1)), st.one_of(st.just(available + 1), amounts)
        )
        caller = mostly(data, st.just("owner"), st.just("outsider"))
        self.call("engine", "withdraw_insurance", caller, amount)
