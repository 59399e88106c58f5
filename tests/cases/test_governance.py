"""The Governor (issue 12, L2): roles and market parameters change only through its
timelock; its owner changes in two steps. Each case runs on the spec and on both chains,
then renders or checks ``tests/vectors/governance/<name>.json``."""

import pytest
from scenarios import ASSET, listing, open_pair

from harness.core.call import CLOCK, Call, Calldata
from harness.core.genesis import DEFAULT_CONFIG, USDC
from harness.core.spec_step import resolve
from harness.vectors.builder import Rejection, settle_trade
from pyspec import governor as governor_spec
from pyspec.constants import EXIT_DELAY, EXIT_WINDOW, GOVERNANCE_GRACE_PERIOD, MIN_GOVERNANCE_DELAY

DELAY = DEFAULT_CONFIG.governance_delay
ZERO = "0x" + "00" * 20
NEW_ORACLE = Calldata("set_oracle", ("trader7",))


def governor(fn: str, sender: str, *args) -> Call:
    return Call("governor", fn, sender, args)


def schedule(data: Calldata, target: str = "engine") -> Call:
    return governor("schedule", "owner", target, data)


def execute(data: Calldata, target: str = "engine") -> Call:
    return governor("execute", "outsider", target, data)


def wait(seconds: int) -> Call:
    return Call(CLOCK, "wait", "", (seconds,))


REJECTED = (
    Rejection(
        "schedule_not_owner",
        "Only the Governor's owner schedules.",
        governor("schedule", "outsider", "engine", NEW_ORACLE),
        "auth: not owner",
    ),
    Rejection(
        "schedule_not_allowed",
        "A call outside the allowlist (here a token transfer's selector) is refused.",
        governor("schedule", "owner", "engine", bytes.fromhex("a9059cbb") + bytes(64)),
        "governor: call not allowed",
    ),
    Rejection(
        "schedule_wrong_target",
        "The Settlement's setter sent to the engine is refused.",
        governor("schedule", "owner", "engine", Calldata("set_operator", ("trader7",))),
        "governor: call not allowed",
    ),
    Rejection(
        "execute_too_early",
        "A scheduled call waits its whole delay.",
        execute(NEW_ORACLE),
        "governor: too early",
        pre=(schedule(NEW_ORACLE), wait(DELAY - 1)),
    ),
    Rejection(
        "execute_expired",
        "A call not executed within the grace period after its delay is void.",
        execute(NEW_ORACLE),
        "governor: expired",
        pre=(schedule(NEW_ORACLE), wait(DELAY + GOVERNANCE_GRACE_PERIOD + 1)),
    ),
    Rejection(
        "cancel_not_scheduled",
        "Only a scheduled call can be cancelled.",
        governor("cancel", "owner", b"\x01" * 32),
        "governor: not scheduled",
    ),
    Rejection(
        "engine_setter_not_governor",
        "The owner cannot call the engine's setters directly, only through the delay.",
        Call("engine", "set_oracle", "owner", ("trader7",)),
        "auth: not governor",
    ),
    Rejection(
        "transfer_ownership_not_owner",
        "Only the owner names the next owner.",
        governor("transfer_ownership", "outsider", "outsider"),
        "auth: not owner",
    ),
    Rejection(
        "accept_ownership_not_named",
        "Only the named account accepts.",
        governor("accept_ownership", "outsider"),
        "auth: not pending owner",
        pre=(governor("transfer_ownership", "owner", "trader7"),),
    ),
    Rejection(
        "accept_ownership_withdrawn",
        "Naming the zero address withdraws the offer.",
        governor("accept_ownership", "trader7"),
        "auth: not pending owner",
        pre=(
            governor("transfer_ownership", "owner", "trader7"),
            governor("transfer_ownership", "owner", ZERO),
        ),
    ),
    Rejection(
        "former_owner_cannot_schedule",
        "Once the new owner accepted, the former owner schedules nothing.",
        governor(
            "schedule",
            "owner",
            "engine",
            Calldata(
                "add_market",
                (
                    listing(),
                    ASSET,
                ),
            ),
        ),
        "auth: not owner",
        pre=(
            governor("transfer_ownership", "owner", "trader7"),
            governor("accept_ownership", "trader7"),
        ),
    ),
)


@pytest.mark.parametrize("row", REJECTED, ids=lambda row: row.name)
def test_rejected(case, row):
    """Each row: its pre-calls, then a call rejected with its reason."""
    case.rejected(row)


def call_id(case, data: Calldata, target: str = "engine") -> bytes:
    """keccak256(abi.encode(target, calldata)), as the Governor names the call."""
    (encoded,) = resolve(case.pair.actors, (data,))
    return governor_spec.call_id(case.address(target), encoded)


def test_execute_cancelled(case):
    """A cancelled call never runs, even after its delay."""
    case(schedule(NEW_ORACLE))
    case(governor("cancel", "owner", call_id(case, NEW_ORACLE)))
    case(wait(DELAY))
    case.act(execute(NEW_ORACLE), reverts="governor: not scheduled")


def test_schedule(case):
    """The owner schedules a new oracle: visible by event, runnable after the delay."""
    case.act(schedule(NEW_ORACLE))


def test_cancel(case):
    """The owner cancels a scheduled call."""
    case(schedule(NEW_ORACLE))
    case.act(governor("cancel", "owner", call_id(case, NEW_ORACLE)))


def test_l2_a_lost_oracle_key_is_replaced(case):
    """L2: the oracle's key is rotated after the delay; the old key can no longer price,
    the new one does. On the old design the oracle was fixed in the constructor."""
    case(schedule(NEW_ORACLE))
    case(wait(DELAY))
    case(execute(NEW_ORACLE))
    timestamp = case.state.timestamp
    case("update_price", "oracle", 0, 10**6, timestamp, reverts="auth: not oracle")
    case.act("update_price", "trader7", 0, 10**6, timestamp)


def test_l2_a_vanished_operator_is_replaced(case):
    """L2: the Governor names a new operator, who settles the next match; the old one is
    refused. On the old design the operator was fixed in the constructor."""
    case.govern("set_operator", "trader7", target="settlement")
    case("deposit", "trader0", 1_000 * USDC)
    case("deposit", "trader1", 1_000 * USDC)
    case(settle_trade(), reverts="auth: not operator")
    case.act(settle_trade(sender="trader7"))


def test_set_market_params(case):
    """After the delay the maintenance margin rises: an account that was healthy becomes
    liquidatable, and every trader saw it coming for the whole delay."""
    open_pair(case, "trader0", "trader1", 9_000, 10**6, 1_000)
    params = listing(initial_margin_ratio=200_000, maintenance_margin_ratio=150_000)
    case(schedule(Calldata("set_market_params", (0, params))))
    case(wait(DELAY))
    case("update_price", "oracle", 0, 10**6, case.state.timestamp)
    case.act(execute(Calldata("set_market_params", (0, params))))


def test_lowered_funding_bound_clamps_the_rate(case):
    """A funding bound lowered below the current rate clamps the rate from then on (the
    index first accrues at the old one)."""
    open_pair(case, "trader0", "trader1", 100, 10**6, 1_000)
    case("set_funding_rate", "oracle", 0, 1_000_000)
    params = listing(max_funding_rate=10_000)
    case(schedule(Calldata("set_market_params", (0, params))))
    case(wait(DELAY))
    case.act(execute(Calldata("set_market_params", (0, params))))
    assert case.state.markets[0].funding_rate == 10_000


def test_out_of_bounds_change_reverts_with_the_engine_reason(case):
    """The engine's bound check runs at execution; its reason comes back unchanged."""
    params = listing(maintenance_margin_ratio=100_000)
    case(schedule(Calldata("set_market_params", (0, params))))
    case(wait(DELAY))
    case.act(
        execute(Calldata("set_market_params", (0, params))),
        reverts="market: invalid margin ratios",
    )


def test_transfer_ownership(case):
    """The owner names trader7; nothing changes until it accepts."""
    case.act(governor("transfer_ownership", "owner", "trader7"))


def test_accept_ownership(case):
    """trader7 accepts and owns the Governor; the offer is cleared."""
    case(governor("transfer_ownership", "owner", "trader7"))
    case.act(governor("accept_ownership", "trader7"))
    assert case.state.timelock.owner == case.address("trader7")


def test_new_owner_schedules(case):
    """The new owner schedules a listing."""
    case(governor("transfer_ownership", "owner", "trader7"))
    case(governor("accept_ownership", "trader7"))
    case.act(
        governor(
            "schedule",
            "trader7",
            "engine",
            Calldata(
                "add_market",
                (
                    listing(),
                    ASSET,
                ),
            ),
        )
    )


def test_n6_superseded_call_dies(case):
    """N6: the owner scheduled trader7 as operator, then trader6 instead. Scheduling the
    second cancels the first: the old design left it executable by anyone for 14 days,
    and an old operator came back."""
    first = Calldata("set_operator", ("trader7",))
    case(schedule(first, target="settlement"))
    case(schedule(Calldata("set_operator", ("trader6",)), target="settlement"))
    case(wait(DELAY))
    case.act(execute(first, target="settlement"), reverts="governor: not scheduled")


def test_n6_delay_outlasts_an_exit(case):
    """N6: the governance delay is at least a whole exit path (EXIT_DELAY + EXIT_WINDOW):
    a trader who asks to exit when a parameter change is scheduled can escape a day
    later, while the change is still a day away (the old design's delay equalled the
    exit delay, so the change and the escape came due at the same second)."""
    assert MIN_GOVERNANCE_DELAY >= EXIT_DELAY + EXIT_WINDOW > EXIT_DELAY
    data = Calldata("set_market_params", (0, listing(initial_margin_ratio=200_000)))
    case(schedule(data))
    case(wait(EXIT_DELAY))
    case.act(execute(data), reverts="governor: too early")
