"""Setups that several cases share; each takes the case's builder and makes pre-calls."""

from dataclasses import replace

from deployment.config import asset_id
from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import DEFAULT_CONFIG, USDC
from harness.vectors.builder import Builder, settle_trade
from pyspec.constants import ADL_POLICY_NAMES, MAX_POSITION_SIZE

INSURANCE_FLOOR = DEFAULT_CONFIG.insurance_floor
# A liquidation's max_size that takes all the protocol allows.
ALL = MAX_POSITION_SIZE


# What a test's listing trades (``add_market``'s bytes32 ``asset``).
ASSET = asset_id("market-new")


def listing(market_id: int = 0, **changes) -> tuple:
    """The arguments of ``add_market``: a configured market's parameters with ``changes``."""
    return replace(DEFAULT_CONFIG.markets[market_id], **changes).listing()


def through_governor(fn: str, *args) -> dict:
    """A rejection row's ``pre`` and ``call`` for ``fn(*args)`` on the engine through the
    Governor: scheduled by the owner, its delay waited out, executed by anyone."""
    data = Calldata(fn, args)
    return {
        "pre": (
            Call("governor", "schedule", "owner", ("engine", data)),
            Call(CLOCK, "wait", "", (DEFAULT_CONFIG.governance_delay,)),
        ),
        "call": Call("governor", "execute", "outsider", ("engine", data)),
    }


def use_policy(b: Builder, name: str) -> None:
    """Set every configured market's ADL policy to ``name`` (through the Governor: its
    delay passes, then every price is published again)."""
    for market_id in range(len(DEFAULT_CONFIG.markets)):
        b.govern(
            "set_market_params",
            market_id,
            listing(market_id, adl_policy=ADL_POLICY_NAMES.index(name)),
        )


def open_pair(b: Builder, buyer: str, seller: str, size: int, price: int, collateral: int):
    """Both sides deposit ``collateral`` USDC; ``buyer`` goes long ``size`` on market 0."""
    b("deposit", buyer, collateral * USDC)
    b("deposit", seller, collateral * USDC)
    b(settle_trade(buyer, seller, size, price))


def flash_crash(b: Builder) -> None:
    """Three longs at 9x, 8x and 6x against well-funded shorts."""
    for trader in ("trader0", "trader1", "trader2"):
        b("deposit", trader, 10_000 * USDC)
    for trader in ("trader3", "trader4", "trader5"):
        b("deposit", trader, 40_000 * USDC)
    b(settle_trade("trader0", "trader3", 90_000, 10**6))
    b(settle_trade("trader1", "trader4", 80_000, 10**6))
    b(settle_trade("trader2", "trader5", 60_000, 10**6))


def drained_fund(b: Builder) -> None:
    """A bankrupt long against three shorts, the fund withdrawn to its floor."""
    b("deposit", "trader0", 1_000 * USDC)
    for trader, amount in (("trader1", 20_000), ("trader2", 20_000), ("trader3", 1_000)):
        b("deposit", trader, amount * USDC)
    b(settle_trade("trader0", "trader1", 5_000, 10**6))
    b(settle_trade("trader0", "trader2", 4_000, 10**6))
    b(settle_trade("trader0", "trader3", 700, 1_020_000))
    b.govern("withdraw_insurance", 900 * USDC)
    b.price(0, 700_000)


def no_profitable_short(b: Builder) -> None:
    """A bankrupt long whose only short can absorb nothing; the fund at its floor.

    trader1's short on market 0 is in profit, but its long on market 1 lost more than its
    collateral and that profit (cross margin): it is bankrupt itself, so not eligible.
    The old setup had trader1 sell its short to trader2 at the crash price, the dodge the
    no-dodge gate (issue 19) now refuses."""
    b("deposit", "trader0", 1_000 * USDC)
    b("deposit", "trader1", 3_000 * USDC)
    b("deposit", "trader2", 20_000 * USDC)
    b(settle_trade("trader0", "trader1", 9_000, 10**6))
    b(settle_trade("trader1", "trader2", 400, 25 * USDC, market=1))
    b.govern("withdraw_insurance", 900 * USDC)
    b.price(1, 5 * USDC)  # trader1: -8,000 USDC on market 1
    b.price(0, 500_000)  # trader0: -4,500 USDC on 1,000; trader1 +4,500 on market 0


def socialized(b: Builder, early: tuple[tuple[str, int], ...] = ()) -> None:
    """``no_profitable_short``, then its deficit socialized onto the shorts; ``early``:
    (trader, USDC) deposits made first, before any loss."""
    for trader, amount in early:
        b("deposit", trader, amount * USDC)
    no_profitable_short(b)
    b("deleverage", "trader0", "trader0")  # by itself: no keeper's reward in the loss


def booked_beside_a_long(b: Builder) -> None:
    """trader0's market-0 loss is booked where it arose (its only counterparty there,
    trader1, is bankrupt itself) while it keeps a 100-lot market-1 long bought at 5 USDC,
    the price it stands at: others paid its deficit, and it holds the long at equity 0."""
    for trader, amount in (("trader0", 1_200), ("trader1", 3_000), ("trader2", 20_000)):
        b("deposit", trader, amount * USDC)
    b("deposit", "trader3", 20_000 * USDC)
    b(settle_trade("trader0", "trader1", 9_000, 10**6))
    b(settle_trade("trader1", "trader2", 400, 25 * USDC, market=1))
    b.govern("withdraw_insurance", 900 * USDC)
    b.price(1, 5 * USDC)  # trader1: -8,000 USDC on market 1, bankrupt
    b(settle_trade("trader0", "trader3", 100, 5 * USDC, market=1))
    b.price(0, 500_000)  # trader0: -4,500 USDC on market 0
    b("deleverage", "trader0", "trader0")  # by itself: no keeper's reward in what it owes


def rewards_paid(events: list) -> int:
    """The keeper's reward a deleverage paid (N9): it joins the deficit the call covers."""
    return sum(args[2] for name, args in events if name == "KeeperReward")
