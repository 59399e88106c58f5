"""Gas on anvil: every external call on typical inputs, and liquidation / ADL as the
number of open positions in a market grows to MAX_POSITIONS_PER_MARKET.

    python -m harness.measure.gas      (make gas) writes docs/gas.md, docs/gas.json, docs/gas.png

Gas is measured on anvil (a real node's receipts); the embedded chain's figures are not
a real chain's.
"""

import argparse
import json
import sys
from dataclasses import astuple
from pathlib import Path

from deployment.address import create_address
from deployment.config import load
from harness import REPO_ROOT
from harness.core import orders
from harness.core.genesis import USDC, deploy_engine_code
from harness.core.governance_actions import with_policy
from harness.evm import artifacts
from harness.evm.abi import FunctionCodec
from harness.evm.anvil import AnvilChain
from harness.evm.base import CHAIN_ID, extra_accounts
from pyspec.constants import (
    ADL_POLICY_CONTRACT_PRO_RATA,
    ADL_POLICY_NAMES,
    ADL_POLICY_QUEUE,
    EXIT_DELAY,
    LIQUIDATOR_RESERVE,
    MAX_MARKETS,
    MAX_POSITION_SIZE,
    MAX_POSITIONS_PER_MARKET,
)
from pyspec.settlement import Order
from pyspec.state import OrderBook

CONFIG = load("default")
ALL = MAX_POSITION_SIZE  # a liquidation's max_size: all the protocol allows
LISTING = CONFIG.markets[0].listing()
ASSET = CONFIG.markets[0].asset
LOT_SIZE = 1_000  # lots per counterparty
DOCS = REPO_ROOT / "docs"
CONTRACTS = {
    "token": "MockToken",
    "engine": "PerpEngine",
    "settlement": "Settlement",
    "governor": "Governor",
}


class Deployment:
    def __init__(self, chain):
        self.chain = chain
        # anvil's 20 funded accounts, then impersonated ones for a full market
        extra = extra_accounts(MAX_POSITIONS_PER_MARKET)
        for account in extra:
            chain.rpc("anvil_impersonateAccount", [account])
        self.accounts = list(chain.accounts) + extra
        self.owner, self.oracle, self.operator = self.accounts[:3]
        arts = {name: artifacts.load(contract) for name, contract in CONTRACTS.items()}
        self.codecs = {
            name: {f["name"]: FunctionCodec(f) for f in art.abi if f["type"] == "function"}
            for name, art in arts.items()
        }
        self.token = chain.deploy(arts["token"].initcode(), self.owner)
        allocator, governance = deploy_engine_code(chain, self.owner)
        settlement = create_address(self.owner, chain.nonce(self.owner) + 1)
        governor = create_address(self.owner, chain.nonce(self.owner) + 2)
        self.engine = chain.deploy(
            arts["engine"].initcode(
                self.token,
                allocator,
                governance,
                self.oracle,
                settlement,
                governor,
                CONFIG.liquidator_share_ratio,
                CONFIG.insurance_floor,
            ),
            self.owner,
        )
        self.settlement = chain.deploy(
            arts["settlement"].initcode(self.engine, self.operator), self.owner
        )
        self.governor = chain.deploy(
            arts["governor"].initcode(self.engine, self.settlement, CONFIG.governance_delay),
            self.owner,
        )
        self.book = OrderBook(self.settlement, CHAIN_ID, self.operator)
        self.nonce = 0
        self.timestamp = chain.now()

    def send(self, sender, target, fn, *args) -> int:
        address = {
            "engine": self.engine,
            "token": self.token,
            "settlement": self.settlement,
            "governor": self.governor,
        }
        result = self.chain.transact(sender, address[target], self.codecs[target][fn].encode(args))
        if not result.success:
            raise RuntimeError(f"{fn}{args}: {result.reason}")
        return result.gas_used

    def read(self, target, fn, *args) -> tuple:
        """A view's outputs."""
        codec = self.codecs[target][fn]
        return codec.decode(self.chain.call(getattr(self, target), codec.encode(args)).output)

    def order(self, trader, market_id, is_buy, size, price) -> tuple[tuple, bytes]:
        """A fresh order of ``trader`` and its signature."""
        self.nonce += 1
        made = Order(trader, market_id, is_buy, size, price, False, self.nonce, 2**64)
        return astuple(made), orders.sign(self.book, made)

    def trade(self, buyer, seller, market_id, size, price) -> int:
        """The operator settles a match of two signed orders (the buyer takes)."""
        maker = self.order(seller, market_id, False, size, price)
        taker = self.order(buyer, market_id, True, size, price)
        return self.send(self.operator, "settlement", "settle", *maker, *taker, size, price)

    def fund(self, account, amount):
        self.send(account, "token", "mint", account, amount)
        self.send(account, "token", "approve", self.engine, 2**256 - 1)

    def price(self, price, market_id: int = 0) -> int:
        """Publish ``price`` for a market a second later (block time moves with it)."""
        self.timestamp += 1
        self.chain.set_time(self.timestamp)
        return self.send(self.oracle, "engine", "update_price", market_id, price, self.timestamp)

    def as_governor(self, fn: str, *args) -> int:
        """``fn(*args)`` on the engine sent by the Governor itself (impersonated): the
        engine's own gas, without the timelock's schedule and wait."""
        self.chain.rpc("anvil_impersonateAccount", [self.governor])
        return self.send(self.governor, "engine", fn, *args)

    def govern(self, target: str, fn: str, *args) -> tuple[int, int]:
        """Schedule ``fn(*args)`` on ``target`` through the Governor, let the delay pass and
        execute it; return the gas of the schedule and of the execution."""
        data = self.codecs[target][fn].encode(args)
        address = {"engine": self.engine, "settlement": self.settlement}[target]
        scheduled = self.send(self.owner, "governor", "schedule", address, data)
        self.timestamp += CONFIG.governance_delay
        self.chain.set_time(self.timestamp)
        return scheduled, self.send(self.owner, "governor", "execute", address, data)


def typical_calls(d: Deployment) -> dict[str, int]:
    """Gas of each external call on typical inputs (one market, a few accounts)."""
    a, b, liquidator = d.accounts[3], d.accounts[4], d.accounts[5]
    gas = {"add_market": d.send(d.owner, "engine", "add_market", LISTING, ASSET)}
    gas["update_price"] = d.price(10**6)
    for account in (a, b, liquidator, d.owner):
        d.fund(account, 10**9 * USDC)
    gas["top_up_insurance"] = d.send(d.owner, "engine", "top_up_insurance", 10_000 * USDC)
    gas["deposit (first)"] = d.send(a, "engine", "deposit", 1_000 * USDC)
    gas["deposit"] = d.send(a, "engine", "deposit", 1_000 * USDC)
    d.send(b, "engine", "deposit", 10_000 * USDC)
    d.send(liquidator, "engine", "deposit", 10_000 * USDC)
    gas["settle, two signatures (open both)"] = d.trade(a, b, 0, 10_000, 10**6)
    gas["settle, two signatures (increase)"] = d.trade(a, b, 0, 5_000, 10**6)
    gas["settle, two signatures (reduce)"] = d.trade(b, a, 0, 1_000, 10**6)
    order, _ = d.order(a, 0, True, 1, 10**6)
    gas["cancel_order"] = d.send(a, "settlement", "cancel_order", order)
    gas["invalidate_nonces"] = d.send(a, "settlement", "invalidate_nonces", 10**6)
    gas["withdraw"] = d.send(a, "engine", "withdraw", 100 * USDC)
    gas["set_funding_rate"] = d.send(d.oracle, "engine", "set_funding_rate", 0, 100)
    d.timestamp += 60  # a minute of funding accrues
    d.chain.set_time(d.timestamp)
    gas["deposit (accrues and settles funding)"] = d.send(a, "engine", "deposit", 1 * USDC)
    d.price(880_000)
    gas["liquidate (partial)"] = d.send(liquidator, "engine", "liquidate", a, 0, ALL)
    gas["withdraw_insurance"] = d.as_governor("withdraw_insurance", 1 * USDC)
    gas["governor schedule"], gas["governor execute: set_market_params"] = d.govern(
        "engine", "set_market_params", 0, LISTING
    )
    gas["governor execute: set_oracle"] = d.govern("engine", "set_oracle", d.oracle)[1]
    gas["governor execute: set_operator"] = d.govern("settlement", "set_operator", d.operator)[1]
    d.price(880_000)
    gas["request_exit"] = d.send(b, "settlement", "request_exit", 0)
    gas["take_exit"] = d.send(liquidator, "settlement", "take_exit", b, 0)
    d.timestamp += 1  # a second after the takeover: nobody trades from the request on
    d.chain.set_time(d.timestamp)
    gas["request_exit (again)"] = d.send(liquidator, "settlement", "request_exit", 0)
    d.timestamp += EXIT_DELAY
    d.chain.set_time(d.timestamp)
    d.price(880_000)  # the escape settles at a fresh price
    gas["escape (settles the market)"] = d.send(b, "settlement", "escape", liquidator, 0)
    gas["deposit (settles a delisted position)"] = d.send(liquidator, "engine", "deposit", 1)
    return gas


def full_market(d: Deployment, markets: int) -> tuple:
    """Fund a bankrupt-to-be long, a keeper, a liquidator and MAX_POSITIONS_PER_MARKET - 1
    shorts; list and price ``markets`` markets; the liquidator deposits."""
    bankrupt, keeper, liquidator = d.accounts[3], d.accounts[4], d.accounts[5]
    shorts = d.accounts[6 : 6 + MAX_POSITIONS_PER_MARKET - 1]
    for account in (bankrupt, liquidator, d.owner, *shorts):
        d.fund(account, 10**9 * USDC)
    for market_id in range(markets):
        d.send(d.owner, "engine", "add_market", LISTING, ASSET)
        d.send(d.oracle, "engine", "update_price", market_id, 10**6, d.timestamp)
    d.send(liquidator, "engine", "deposit", 10**8 * USDC)
    return bankrupt, keeper, liquidator, shorts


# Holders trades may make in one market; the reserved slots are filled by takeovers.
TRADE_SLOTS = MAX_POSITIONS_PER_MARKET - LIQUIDATOR_RESERVE


def open_counterparties(
    d: Deployment, bankrupt, liquidator, counterparties: list, markets: int, staggered=False
) -> None:
    """``bankrupt`` long LOT_SIZE lots against each counterparty, each of which also holds a
    lot in every other of ``markets`` markets. Trades fill TRADE_SLOTS holders; beyond
    that, counterparties enter the reserved slots as liquidators taking 100 lots over from
    the first shorts, which opened at 1.00 on thin margin and fall below maintenance when
    the price rises 5%. ``staggered``: the traded shorts open along a falling price (1.00
    down by 0.01 each), so profits differ and capped water-fills take many passes."""
    traded, takers = counterparties[: TRADE_SLOTS - 1], counterparties[TRADE_SLOTS - 1 :]
    victims = traded[: len(takers)]
    for i, short in enumerate(traded):
        price = 10**6 - i * 10_000 if staggered else 10**6
        if staggered:
            d.price(price)
        d.send(short, "engine", "deposit", (102 if short in victims else 10_000) * USDC)
        d.trade(bankrupt, short, 0, LOT_SIZE, price)
        for market_id in range(1, markets):
            d.trade(short, liquidator, market_id, 1, 10**6)
    if takers:
        d.price(1_050_000)
        for taker, victim in zip(takers, victims, strict=True):
            d.send(taker, "engine", "deposit", 10_000 * USDC)
            d.send(taker, "engine", "liquidate", victim, 0, 100)


def waterfall_by_positions(d: Deployment, counts: list[int], markets: int) -> list[dict]:
    """Liquidation and ADL of one bankrupt long against n - 1 profitable shorts, each of
    which also holds a position in every other of ``markets`` markets (so ranking reads
    a full cross-margin account per candidate)."""
    bankrupt, keeper, liquidator, shorts = full_market(d, markets)
    base = d.chain.snapshot()
    rows = []
    for n in counts:
        d.chain.revert(base)
        d.send(bankrupt, "engine", "deposit", (n - 1) * LOT_SIZE * USDC // 9)
        open_counterparties(d, bankrupt, liquidator, shorts[: n - 1], markets)
        d.send(d.owner, "engine", "top_up_insurance", 10**6 * USDC)
        # the withdrawal scans every holder of every market for negative equity
        scan = d.as_governor("withdraw_insurance", 1 * USDC)
        before = d.chain.snapshot()
        # a winner's trade scans the holders opposite it for a bankrupt one (issue 19's
        # gate): the long, in profit at 1.01, sells a lot back to a short, facing them all
        d.price(1_010_000)
        gated = d.trade(shorts[0], bankrupt, 0, 1, 1_010_000)
        d.chain.revert(before)
        before = d.chain.snapshot()
        d.price(600_000)  # the long is bankrupt, every short profitable
        liquidate = d.send(liquidator, "engine", "liquidate", bankrupt, 0, ALL)  # fund-financed
        d.chain.revert(before)
        floor = CONFIG.insurance_floor
        d.as_governor("withdraw_insurance", (10**6 - 1) * USDC - floor)  # to the floor
        d.price(600_000)
        deleverage = d.send(keeper, "engine", "deleverage", bankrupt)  # the whole position
        rows.append(
            {
                "markets": markets,
                "positions": n,
                "fills": n - 1,
                "liquidate": liquidate,
                "deleverage": deleverage,
                "withdraw_insurance": scan,
                "winner_trade": gated,
            }
        )
        print(
            f"  {n:3d} positions: liquidate {liquidate:>9,}  deleverage {deleverage:>10,}"
            f"  withdraw_insurance {scan:>9,}  winner's trade {gated:>9,}",
            flush=True,
        )
    return rows


def price_with_an_open_round(d: Deployment, markets: int) -> dict[str, int]:
    """A price while an ADL round is open (issue 19): one long against the market's
    TRADE_SLOTS - 1 shorts, each also holding a lot in every other of ``markets`` markets;
    two shorts are thin. A rise bankrupts both; one's deleverage writes the long's record
    (the longs' round opens) and leaves the other bankrupt, last in holder order, so a
    price scans every short before it finds it, and a price that rescues it scans them all
    and ends the round. (The last two shorts are the thin ones, and the last is
    deleveraged first: a holder leaves the list by a swap with the last, which would
    otherwise bring the bankrupt one to the front.)"""
    long, keeper, liquidator, shorts = full_market(d, markets)
    shorts = shorts[: TRADE_SLOTS - 1]
    d.send(long, "engine", "deposit", 10**7 * USDC)
    for i, short in enumerate(shorts):
        thin = i >= len(shorts) - 2
        d.send(short, "engine", "deposit", (102 if thin else 10_000) * USDC)
        d.trade(long, short, 0, LOT_SIZE, 10**6)
        for market_id in range(1, markets):
            d.trade(short, liquidator, market_id, 1, 10**6)
    d.price(1_200_000)  # both thin shorts lose 200 USDC of about 100
    d.send(keeper, "engine", "deleverage", shorts[-1])
    return {
        "open": d.price(1_200_000),  # the last short is still bankrupt: the round stays open
        "ended": d.price(1_050_000),  # it is solvent again: the scan reads every short
    }


def price_with_rounds_open_everywhere(d: Deployment, markets: int) -> dict[str, int]:
    """A price while an ADL round is open in each of ``markets`` markets (issue 19): one
    long against TRADE_SLOTS - 1 shorts in every market; the last two shorts are thin. A
    rise in every market bankrupts both; the last one's deleverages (one a market) open the
    longs' round in each, and the other stays bankrupt, last in every holder list. A price
    in market 0 then scans every market's shorts; one that rescues the thin short scans
    them all and ends every round."""
    long, keeper, _, shorts = full_market(d, markets)
    shorts = shorts[: TRADE_SLOTS - 1]
    d.send(long, "engine", "deposit", 10**7 * USDC)
    for i, short in enumerate(shorts):
        thin = i >= len(shorts) - 2
        # 10% initial margin on 1,000 USDC a market; a thin short loses 200 a market at 1.20
        d.send(short, "engine", "deposit", (markets * 112 if thin else 10_000) * USDC)
        for market_id in range(markets):
            d.trade(long, short, market_id, LOT_SIZE, 10**6)
    for market_id in range(markets):
        d.price(1_200_000, market_id)
    for _ in range(markets):  # one position a call, the lowest market first
        d.send(keeper, "engine", "deleverage", shorts[-1])
    # the rescue: market 0 falls until the thin short's gain there covers its other losses
    rescue = 10**6 - (markets * 200 - markets * 112 + 50) * 10**3

    def open_rounds() -> int:
        (market,) = artifacts.load("PerpEngine").fn("markets")["outputs"]
        fields = [f["name"] for f in market["components"]]
        at = fields.index("long_adl_round")
        return sum(d.read("engine", "markets", m)[0][at] % 2 for m in range(markets))

    gas = {"open": d.price(1_200_000)}  # the other thin short is still bankrupt everywhere
    assert open_rounds() == markets, "a longs' round is not open in every market"
    gas["ended"] = d.price(rescue)  # it is solvent again: every round ends
    assert open_rounds() == 0, "a price that rescued the last bankrupt short left a round open"
    return gas


def deleverage_by_policy(d: Deployment, markets: int, staggered: bool) -> dict[str, int]:
    """A complete deleverage at the holder bound under each ADL policy: one bankrupt long
    against MAX_POSITIONS_PER_MARKET - 1 profitable shorts, each also in every other of
    ``markets`` markets (``open_counterparties``)."""
    bankrupt, keeper, liquidator, shorts = full_market(d, markets)
    d.send(bankrupt, "engine", "deposit", len(shorts) * LOT_SIZE * USDC * 3 // 10)
    open_counterparties(d, bankrupt, liquidator, shorts, markets, staggered)
    base = d.chain.snapshot()  # the fund is empty: ADL allocates the whole deficit
    gas = {}
    for policy, name in enumerate(ADL_POLICY_NAMES):
        d.chain.revert(base)
        d.govern("engine", "set_market_params", 0, with_policy(LISTING, policy))
        for market_id in range(1, markets):
            d.price(10**6, market_id)  # the delay aged every price
        d.price(500_000)  # the long is bankrupt, every short profitable
        gas[name] = d.send(keeper, "engine", "deleverage", bankrupt)
    print(f"  {markets} market(s), staggered={staggered}: {gas}", flush=True)
    return gas


def staircase_caps(n: int, budget: int, drop: int) -> list[int]:
    """Caps for equal weights that make the water-fill saturate exactly one share per pass:
    each cap sits just above the previous pass's level and at or below its own."""
    caps, remaining, previous = [], budget, None
    for active in range(n, 0, -1):
        level = remaining // active
        cap = level - drop if previous is None else previous + 1
        caps.append(cap)
        remaining -= cap
        previous = level
    return caps


def allocator_worst_case(chain) -> dict[str, int]:
    """Gas of ``AdlAllocator.allocate`` (a transaction, calldata included) on the
    water-fill's worst case: 31 eligible holders whose capped charges saturate one per pass
    (31 passes), under contract pro-rata (equal weights; the pass loop is the one every
    pro-rata policy runs, ``_saturate``: pro-rata on profit's apportionment shares it, and
    its weights would overflow at these magnitudes) and, on the same holders, the queue.
    The staircase needs a range of about 30! between budget and step, so the magnitudes
    (1e40) are synthetic, beyond the declared bounds (where fewer passes occur); EVM gas
    does not depend on them."""
    art = artifacts.load("AdlAllocator")
    address = chain.deploy(art.initcode(), chain.accounts[0])
    codec = FunctionCodec(art.fn("allocate"))
    budget = 10**40
    caps = staircase_caps(MAX_POSITIONS_PER_MARKET - 1, budget, 10**37)
    holders = [(f"0x{0x9000 + i:040x}", 1, budget, 1, cap, 1, 0) for i, cap in enumerate(caps)]
    gas = {}
    for policy in (ADL_POLICY_QUEUE, ADL_POLICY_CONTRACT_PRO_RATA):
        name = ADL_POLICY_NAMES[policy]
        data = codec.encode((policy, 1, 1, holders, len(holders), budget))
        result = chain.transact(chain.accounts[0], address, data)
        assert result.success, result.reason
        gas[name] = result.gas_used
    print(f"  allocate, worst water-fill: {gas}", flush=True)
    return gas


def plot(rows: list[dict], path: Path) -> None:
    """Plot liquidate and deleverage gas against open positions, one line per markets held."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    for markets in sorted({r["markets"] for r in rows}):
        mine = [r for r in rows if r["markets"] == markets]
        xs = [r["positions"] for r in mine]
        ax.plot(
            xs,
            [r["deleverage"] / 1e6 for r in mine],
            marker="o",
            label=f"deleverage, {markets} market(s) per account",
        )
        ax.plot(
            xs,
            [r["liquidate"] / 1e6 for r in mine],
            marker=".",
            ls="--",
            label=f"liquidate, {markets} market(s) per account",
        )
    ax.axhline(30, color="grey", lw=0.8)
    ax.text(2, 28.5, "30M block gas limit", fontsize=8, color="grey")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("open positions in the market")
    ax.set_ylabel("gas (millions)")
    ax.set_title("Waterfall gas on anvil as the market fills up")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="where gas.md, .json, .png go")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: the typical calls, one small waterfall row and one policy row",
    )
    args = parser.parse_args(argv)
    chain = AnvilChain()
    try:
        typical = typical_calls(Deployment(chain))
        chain.restart()
        counts = [n for n in (2, 4, 8, 16, TRADE_SLOTS) if n < MAX_POSITIONS_PER_MARKET] + [
            MAX_POSITIONS_PER_MARKET
        ]
        if args.quick:
            counts = [2]
        rows = waterfall_by_positions(Deployment(chain), counts, markets=1)
        if not args.quick:
            chain.restart()
            rows += waterfall_by_positions(Deployment(chain), counts, markets=MAX_MARKETS)
        policies = []
        cases = ((1, False), (1, True), (MAX_MARKETS, False), (MAX_MARKETS, True))
        for markets, staggered in cases[:1] if args.quick else cases:
            chain.restart()
            gas = deleverage_by_policy(Deployment(chain), markets, staggered)
            policies.append({"markets": markets, "staggered": staggered, **gas})
        rounds = []
        for markets in (1,) if args.quick else (1, MAX_MARKETS):
            chain.restart()
            rounds.append(
                {"markets": markets, **price_with_an_open_round(Deployment(chain), markets)}
            )
        if not args.quick:
            chain.restart()
            everywhere = price_with_rounds_open_everywhere(Deployment(chain), MAX_MARKETS)
            rounds.append({"markets": MAX_MARKETS, "rounds": MAX_MARKETS} | everywhere)
        worst = allocator_worst_case(chain)
    finally:
        chain.close()
    out = args.out
    out.mkdir(exist_ok=True)
    (out / "gas.json").write_text(
        json.dumps(
            {
                "calls": typical,
                "waterfall": rows,
                "policies": policies,
                "price_with_an_open_round": rounds,
                "allocate_worst": worst,
            },
            indent=2,
        )
    )
    lines = [
        "# Gas (anvil receipts)",
        "",
        "Regenerate with `make gas`.",
        "",
        "| call | gas |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {gas:,} |" for name, gas in typical.items()]
    lines += [
        "",
        "Liquidation and ADL of one bankrupt long against n - 1 profitable shorts (the ADL "
        "fills every one of them). With 8 markets every short also holds a position in the "
        "7 other markets: the worst case of the scan, which reads each holder's whole "
        "cross-margin account. The markets use the configured ADL policy (pnl_pro_rata); "
        "every policy's figures at the bound are in the next table. Trades fill at most "
        "28 holders (LIQUIDATOR_RESERVE); the rows at 32 hold 4 counterparties that entered "
        "the reserved slots as liquidators taking positions over, so the bound is reached as "
        "on a live market. A trade by a profitable holder scans the holders opposite it for a "
        "bankrupt one (the no-dodge gate, issue 19): the long, in profit at 1.01, sells 1 lot "
        "to the first short and so reads every short's account, nobody bankrupt. The worst "
        "call at the bound, 8 markets each, stays under half of a 30M block. Bound: "
        f"MAX_POSITIONS_PER_MARKET = {MAX_POSITIONS_PER_MARKET}.",
        "",
        "| markets held | open positions | ADL fills | liquidate (bankrupt, fund-financed) "
        "| deleverage (complete close) | withdraw_insurance (holder scan) "
        "| settle by a winner (no-dodge scan) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['markets']} | {r['positions']} | {r['fills']} | {r['liquidate']:,} "
        f"| {r['deleverage']:,} | {r['withdraw_insurance']:,} | {r['winner_trade']:,} |"
        for r in rows
    ]
    lines += [
        "",
        "A complete deleverage at the holder bound (one bankrupt long against "
        f"{MAX_POSITIONS_PER_MARKET - 1} profitable shorts, the fund empty) under each ADL "
        "policy. Staggered: the shorts opened along a falling price (1.00 to 0.70), so their "
        "profits differ and the capped water-fills need several passes; with 8 markets every "
        "short also holds the 7 others.",
        "",
        "| markets held | staggered profits | " + " | ".join(ADL_POLICY_NAMES) + " |",
        "|---:|:---:|" + "---:|" * len(ADL_POLICY_NAMES),
    ]
    lines += [
        f"| {p['markets']} | {'yes' if p['staggered'] else 'no'} | "
        + " | ".join(f"{p[name]:,}" for name in ADL_POLICY_NAMES)
        + " |"
        for p in policies
    ]
    lines += [
        "",
        f"A price while an ADL round is open (issue 19): one long against {TRADE_SLOTS - 1} "
        "shorts, each also in every other market held; the last two shorts in "
        "holder order go bankrupt, and the last one's deleverage opens the longs' round. A "
        "price then reads every short's account until it finds the other, now last, still "
        "bankrupt; a price that rescues it reads them all and ends the round. With no "
        f"round open a price costs {typical['update_price']:,} (the first table).",
        "",
        "The last row holds the longs' round open in every market at once: each short is "
        "short in all of them, and the price in market 0 scans every market's shorts.",
        "",
        "| markets held | rounds open | price, round open (last holder bankrupt) | "
        "price ending the rounds |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['markets']} | {r.get('rounds', 1)} | {r['open']:,} | {r['ended']:,} |"
        for r in rounds
    ]
    lines += [
        "",
        "The allocator alone on the water-fill's worst case: 31 eligible holders whose capped "
        "charges saturate one per pass (31 passes, under contract pro-rata; every pro-rata "
        "policy runs the same loop), as a transaction to `AdlAllocator.allocate`, and the "
        "queue on the same holders. The staircase needs magnitudes beyond the declared "
        "bounds (1e40); EVM gas does not depend on them: "
        + ", ".join(f"{name} {gas:,}" for name, gas in worst.items())
        + ".",
        "",
        "![waterfall gas](gas.png)",
    ]
    plot(rows, out / "gas.png")
    (out / "gas.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
