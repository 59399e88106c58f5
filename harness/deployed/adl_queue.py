"""Who a deployed instance would deleverage, and how much: each market's ADL candidates
per side as its policy ranks (queue) or weighs (pro-rata) them.

    python -m harness.deployed.adl_queue --rpc URL --manifest PATH [--market M] [--json]

(``ape run queue`` runs it with its network's URL.) The state comes from the instance's
own views and events (``harness/core/state_import.py``); the ranking and the weights
are the allocator's rules (``pyspec/adl_allocator.py``) applied to it; the light and the
exposure are PerpViews' own answers at the same block.
"""

import argparse
import json
import sys
from fractions import Fraction

from harness.core.state_import import Deployment, Reader, http_rpc, import_state
from harness.deployed import read_manifest
from pyspec import adl, adl_allocator
from pyspec.constants import ADL_POLICY_NAMES, ADL_POLICY_PNL_PRO_RATA, ADL_POLICY_QUEUE
from pyspec.state import State

SIDES = ((1, "long"), (-1, "short"))


def side_rows(state: State, views: Reader, address: str, market_id: int, side: int) -> list:
    """One side's candidates, first deleveraged first: the eligible ones in queue order or
    by weight (largest first, then address), then the others in the order the allocator
    closes them uncharged (solvent accounts first, ``adl_allocator.completion_order``)."""
    market = state.markets[market_id]
    holders = adl.side_holders(state, market_id, side)
    eligible = [h for h in holders if adl_allocator.is_eligible(h)]
    if market.adl_policy == ADL_POLICY_QUEUE:
        ordered = adl_allocator.queue_order(holders)
        weights = {}
    else:
        weights = {h.account: _weight(market.adl_policy, h, market.price) for h in eligible}
        ordered = sorted(eligible, key=lambda h: (-weights[h.account], int(h.account, 16)))
    total = sum(weights.values())
    rows = []
    for rank, holder in enumerate([*ordered, *adl_allocator.completion_order(holders)], 1):
        lots, collateral = views("PerpViews", address, "adl_exposure", holder.account, market_id)
        row = {
            "rank": rank if holder in eligible else None,
            "account": holder.account,
            "position": side * holder.size,
            "upnl": holder.upnl,
            "pnl_pct": [holder.upnl, holder.entry],  # the queue's rank fraction, exact
            "light": views("PerpViews", address, "adl_quantile", holder.account, market_id),
            "exposure_lots": lots,
            "exposure_collateral": collateral,
        }
        if market.adl_policy != ADL_POLICY_QUEUE:
            weight = weights.get(holder.account, 0)
            row["weight"] = weight
            row["share"] = [weight, total]  # of the deficit the weighted fill charges
        rows.append(row)
    return rows


class NoSuchMarket(ValueError):
    """``--market`` names no market of the instance."""


def queue_report(rpc, deployment: Deployment, market: int | None = None) -> dict:
    """Every market's (or ``market``'s) candidates per side, read at one block."""
    imported = import_state(rpc, deployment)
    state = imported.state
    views = Reader(rpc, imported.block)
    if market is not None and not 0 <= market < len(state.markets):
        raise NoSuchMarket(
            f"--market {market}: the instance lists markets 0 to {len(state.markets) - 1}"
        )
    markets = range(len(state.markets)) if market is None else [market]
    return {
        "block": imported.block,
        "engine": deployment.engine,
        "markets": [
            {
                "market": m,
                "policy": ADL_POLICY_NAMES[state.markets[m].adl_policy],
                "price": state.markets[m].price,
                "insurance_fund": state.insurance_fund,
                **{
                    name: side_rows(state, views, deployment.views, m, side) for side, name in SIDES
                },
            }
            for m in markets
        ],
    }


def percent(fraction: list[int]) -> str:
    numerator, denominator = fraction
    if denominator == 0:
        return "unbounded" if numerator else "-"
    return f"{float(Fraction(100 * numerator, denominator)):.4f}%"


def render(report: dict) -> str:
    lines = [f"ADL candidates of the engine {report['engine']} at block {report['block']}"]
    for market in report["markets"]:
        lines.append(
            f"market {market['market']}: policy {market['policy']}, price {market['price']}, "
            f"insurance fund {market['insurance_fund']}"
        )
        pro_rata = market["policy"] != ADL_POLICY_NAMES[ADL_POLICY_QUEUE]
        for _, side in SIDES:
            rows = market[side]
            if not rows:
                lines.append(f"  {side}: no positions")
                continue
            order = "by weight" if pro_rata else "in queue order (PnL%)"
            lines.append(f"  {side}, {order}:")
            for row in rows:
                rank = f"#{row['rank']}" if row["rank"] else "not eligible"
                ranking = (
                    f"weight {row['weight']} share {percent(row['share'])}"
                    if pro_rata
                    else f"PnL% {percent(row['pnl_pct'])}"
                )
                lines.append(
                    f"    {rank:>12} {row['account']} position {row['position']} "
                    f"upnl {row['upnl']} {ranking} light {row['light']} "
                    f"exposure {row['exposure_lots']} lots / {row['exposure_collateral']}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpc", required=True, help="the node's JSON-RPC URL")
    parser.add_argument("--manifest", required=True, help="deployments/<chain-id>.json")
    parser.add_argument("--market", type=int, default=None, help="one market (default all)")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    args = parser.parse_args(argv)
    if (manifest := read_manifest(args.manifest)) is None:
        return 2
    deployment = Deployment.from_manifest(manifest)
    try:
        report = queue_report(http_rpc(args.rpc), deployment, args.market)
    except NoSuchMarket as error:
        parser.error(str(error))
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _weight(policy: int, holder: adl_allocator.Holder, price: int) -> int:
    """The holder's weight: under pro-rata on profit its round base, the profit it held at
    the round's start (``adl_allocator.round_charges``)."""
    if policy == ADL_POLICY_PNL_PRO_RATA:
        return holder.upnl + holder.paid
    return adl_allocator.compute_weight(policy, holder, price)
