"""Regression: a keeper with a settled position keeps its record.

A false alarm of the property, not of the engine: trader1 owes 86.11 USDC (its deleverage
left it a long in market 1) and market 1 then settles by an escape; its long there is
settled only when trader1 is next touched. trader1 deleverages trader4: holding that
position still, it is not a keeper "holding nothing", so its record stays open (it repays
first at its next withdrawal or trade, from what the final settlement realizes).
``owed_repaid_first`` expected a repayment from any keeper with nothing in a live market.

Exported by ``make export`` from reports/r7s-pnl_pro_rata/counterexample.json.
When found, it failed with: {
 "invariant": "owed_repaid_first",
 "kind": "InvariantViolation",
 "step": 43,
 "fn": "engine.deleverage",
 "message": "invariant owed_repaid_first: deleverage: trader1 owed 86112077 at equity 737199023; it repaid 0 first, not 86112077",
 "entry_points": [
  "engine.deleverage"
 ]
}
"""

from harness.core.call import Call, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1000000, 1700172800)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 25000000, 1700172800)),
    Call(target="engine", fn="deposit", sender="trader0", args=(5577000000,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(521000000,)),
    Call(target="engine", fn="deposit", sender="trader2", args=(578000000,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(5544000000,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(1000000000,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(20000000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 1, False, 80, 25000000, False, 2, 1700259201),
            Signed(order=("trader0", 1, False, 80, 25000000, False, 2, 1700259201)),
            ("trader1", 1, True, 80, 25000000, False, 2, 1700259201),
            Signed(order=("trader1", 1, True, 80, 25000000, False, 2, 1700259201)),
            80,
            25000000,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader1", 0, False, 6363, 1000000, False, 4, 1700259201),
            Signed(order=("trader1", 0, False, 6363, 1000000, False, 4, 1700259201)),
            ("trader7", 0, True, 6363, 1000000, False, 4, 1700259201),
            Signed(order=("trader7", 0, True, 6363, 1000000, False, 4, 1700259201)),
            6363,
            1000000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 12500000, 1700172803)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1113618, 1700172804)),
    Call(target="engine", fn="deleverage", sender="outsider", args=("trader1",)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(60,)),
    Call(target="clock", fn="wait", sender="", args=(3600,)),
    Call(target="clock", fn="wait", sender="", args=(60,)),
    Call(target="clock", fn="wait", sender="", args=(600,)),
    Call(target="clock", fn="wait", sender="", args=(3600,)),
    Call(target="clock", fn="wait", sender="", args=(3600,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(3600,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="settlement", fn="request_exit", sender="trader0", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 23203886, 1700447128)),
    Call(target="settlement", fn="escape", sender="outsider", args=("trader0", 1)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1184409, 1700447130)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader2", 0, True, 2223, 1184409, False, 14, 1700533530),
            Signed(order=("trader2", 0, True, 2223, 1184409, False, 14, 1700533530)),
            ("trader4", 0, False, 2223, 1184409, False, 14, 1700533530),
            Signed(order=("trader4", 0, False, 2223, 1184409, False, 14, 1700533530)),
            2223,
            1184409,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1000000000000, 1700447133)),
    Call(target="engine", fn="deleverage", sender="trader1", args=("trader4",)),
]


def test_keeper_with_a_settled_position_keeps_its_record(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
