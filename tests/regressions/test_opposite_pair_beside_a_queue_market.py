"""Regression: two bankrupt accounts on opposite sides of a market, beside a queue market.

A false alarm of the property, not of the engine, found by a default 10 s campaign
(2026-12-05, seed 6494288045336243730). trader0 (long in market 0, short in market 1)
and trader7 (short in both) are bankrupt once market 0 falls to one unit and market 1
rises to 75 USDC. ``adl_order_free`` replays both accounts' deleverages in both orders
and compared every counterparty's charges in every market, market 1's too, whose policy
is the queue: its charges follow the keeper's order by design (SPEC.md, "The queue").
The replay now tallies only the markets whose policy is round-consistent (pro-rata on
profit or on size); market 0's charges still differ by at most the fund the round
started with, which covers whichever deficit comes first.

Exported by ``make export`` from the campaign's minimized counterexample (37 calls).
When found, it failed with: {
 "invariant": "adl_order_free",
 "kind": "InvariantViolation",
 "step": 37,
 "fn": "engine.deleverage",
 "message": "invariant adl_order_free: market 0: deleveraging ['trader7', 'trader0'] (opposite sides) whole charged {'trader1': 0, 'trader4': 2731078839, 'trader3': 5056, 'trader2': 10961959}, in the other order {'trader3': 0, 'trader4': 1255394487, 'trader1': 0, 'trader2': 1486651367} (rounding unit and fund 1057089973)",
 "entry_points": [
  "engine.deleverage"
 ]
}
"""

from harness.core.call import Call, Calldata, Signed
from harness.core.invariants import CHECKS
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="engine", fn="deposit", sender="trader0", args=(2273000000,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(1000499,)),
    Call(target="engine", fn="deposit", sender="trader2", args=(247986720,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(0,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 1, False, 46, 25365650, False, 0, 1700086400),
            Signed(order=("trader0", 1, False, 46, 25365650, False, 0, 1700086400)),
            ("trader2", 1, True, 46, 25365650, False, 0, 1700086400),
            Signed(order=("trader2", 1, True, 46, 25365650, False, 0, 1700086400)),
            46,
            25365650,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader3", args=(50000200,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader3", 0, False, 1, 1000000, False, 2, 1700086401),
            Signed(order=("trader3", 0, False, 1, 1000000, False, 2, 1700086401)),
            ("trader1", 0, True, 1, 1000000, False, 2, 1700086401),
            Signed(order=("trader1", 0, True, 1, 1000000, False, 2, 1700086401)),
            1,
            1000000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader0", args=(0,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(354734075,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader4", 0, False, 1, 1030000, False, 4, 1700086402),
            Signed(order=("trader4", 0, False, 1, 1030000, False, 4, 1700086402)),
            ("trader0", 0, True, 1, 1030000, False, 4, 1700086402),
            Signed(order=("trader0", 0, True, 1, 1030000, False, 4, 1700086402)),
            1,
            1030000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 875500, 1700000003)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(482232651,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 0, False, 1, 875500, False, 6, 1700086404),
            Signed(order=("trader7", 0, False, 1, 875500, False, 6, 1700086404)),
            ("trader4", 0, True, 1, 875500, False, 6, 1700086404),
            Signed(order=("trader4", 0, True, 1, 875500, False, 6, 1700086404)),
            1,
            875500,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader3", 1, False, 1, 25000000, False, 8, 1700086404),
            Signed(order=("trader3", 1, False, 1, 25000000, False, 8, 1700086404)),
            ("trader4", 1, True, 1, 25000000, False, 8, 1700086404),
            Signed(order=("trader4", 1, True, 1, 25000000, False, 8, 1700086404)),
            1,
            25000000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(12,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 1, False, 83, 24191025, False, 14, 1700086421),
            Signed(order=("trader7", 1, False, 83, 24191025, False, 14, 1700086421)),
            ("trader4", 1, True, 83, 24191025, False, 14, 1700086421),
            Signed(order=("trader4", 1, True, 83, 24191025, False, 14, 1700086421)),
            83,
            24191025,
        ),
    ),
    Call(
        target="governor",
        fn="schedule",
        sender="owner",
        args=(
            "engine",
            Calldata(
                fn="set_market_params",
                args=(1, (200000, 100000, 20000, 100000, 2777777, 0, 1000, 0, 3600, 10000000)),
            ),
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(
        target="governor",
        fn="execute",
        sender="outsider",
        args=(
            "engine",
            Calldata(
                fn="set_market_params",
                args=(1, (200000, 100000, 20000, 100000, 2777777, 0, 1000, 0, 3600, 10000000)),
            ),
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="clock", fn="wait", sender="", args=(604800,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1, 1700950422)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 75000000, 1700950425)),
    Call(target="engine", fn="deleverage", sender="outsider", args=("trader7",)),
]


def test_opposite_pair_beside_a_queue_market(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS[:-1]:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
    compared = CHECKS["adl_order_free"]
    sequence.call(CALLS[-1])
    assert CHECKS["adl_order_free"] > compared  # the pair was replayed and compared
