"""Regression: a funding unit the fund receives between two calls of a round.

A false alarm of the property, not of the engine, found by a 60 s default campaign
(2026-12-06, seed 2261, pro-rata on profit) on the round's apportionment, whose replays
``adl_order_free`` first compared exactly. The attacker (equity -1) and trader1 are
bankrupt against trader2, the fund covers part of the round. Settling an account books
the market's whole funding residue units to the fund: deleveraging the attacker first,
trader2's settlement brought a unit to the fund before trader1's call, whose cover was a
unit larger, so trader2 paid a unit less than in the other order. The total the fund and
trader2 paid is the same; the replay now allows the funding units the fund received
between the calls.

Exported by ``make export`` from the campaign's minimized counterexample (38 calls).
When found, it failed with: {
 "invariant": "adl_order_free",
 "kind": "InvariantViolation",
 "step": 38,
 "fn": "engine.deleverage",
 "message": "invariant adl_order_free: market 0: deleveraging ['attacker', 'trader1'] each by itself charged {'trader2': 14600981591}, in the other order {'trader2': 14600981592} (rounding unit 0)",
 "entry_points": [
  "engine.deleverage"
 ]
}
"""

from harness.core.call import Call, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(2048000000,)),
    Call(target="engine", fn="deposit", sender="trader2", args=(2425441200,)),
    Call(target="engine", fn="deposit", sender="trader6", args=(0,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1000000, 1700518402)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 0, 0)),
    Call(target="engine", fn="deposit", sender="trader1", args=(500000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader2", 0, False, 24206, 1000000, False, 2, 1700604803),
            Signed(order=("trader2", 0, False, 24206, 1000000, False, 2, 1700604803)),
            ("trader1", 0, True, 24206, 1000000, False, 2, 1700604803),
            Signed(order=("trader1", 0, True, 24206, 1000000, False, 2, 1700604803)),
            24206,
            1000000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 930000, 1700518404)),
    Call(
        target="bundle",
        fn="execute",
        sender="outsider",
        args=(
            Call(target="engine", fn="deposit", sender="attacker", args=(675349,)),
            Call(target="engine", fn="liquidate", sender="attacker", args=("trader1", 0, 1)),
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(0,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader6", 1, True, 0, 27491150, False, 10, 1700604805),
            Signed(order=("trader6", 1, True, 0, 27491150, False, 10, 1700604805)),
            ("trader1", 1, False, 0, 27491150, False, 10, 1700604805),
            Signed(order=("trader1", 1, False, 0, 27491150, False, 10, 1700604805)),
            0,
            0,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(604801,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 930000, 1701123207)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="set_funding_rate", sender="oracle", args=(0, -18199)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader3", args=(0,)),
    Call(target="engine", fn="deposit", sender="trader6", args=(0,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 0, 0)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 250000, 1701123212)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader6", 0, False, 0, 250000, False, 26, 1701209612),
            Signed(order=("trader6", 0, False, 0, 250000, False, 26, 1701209612)),
            ("trader3", 0, True, 0, 250000, False, 26, 1701209612),
            Signed(order=("trader3", 0, True, 0, 250000, False, 26, 1701209612)),
            0,
            0,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader2", 1, True, 0, 21907157, False, 28, 1701209612),
            Signed(order=("trader2", 1, True, 0, 21907157, False, 28, 1701209612)),
            ("trader3", 1, False, 0, 21907157, False, 28, 1701209612),
            Signed(order=("trader3", 1, False, 0, 21907157, False, 28, 1701209612)),
            0,
            0,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 0, 0)),
    Call(target="engine", fn="deleverage", sender="outsider", args=("trader1",)),
]


def test_funding_unit_between_two_calls(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
