"""Regression: a keeper's record ends with its last position.

A false alarm of the property, not of the engine: trader7 owes 2,597.98 USDC (a
deleverage left it a position in market 1) and deleverages trader4, whose long there
closes against trader7's short, trader7's last position. Holding nothing, the keeper's
record ends before its reward (``_pay_keeper``, M-1: forgiven once nothing is open);
``owed_repaid_first`` allowed forgiveness only to the deleveraged account and to an
account that held nothing before the call.

Exported by ``make export`` from reports/r5b-leverage_pro_rata/counterexample.json.
When found, it failed with: {
 "invariant": "owed_repaid_first",
 "kind": "InvariantViolation",
 "step": 26,
 "fn": "engine.deleverage",
 "message": "invariant owed_repaid_first: deleverage: trader7's record moved by -2597979243; others paid 0 for it, it repaid and was forgiven [(0, 2597979243)], positions left: False",
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
    Call(target="engine", fn="deposit", sender="trader4", args=(592000000,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(518000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 0, False, 3883, 1000332, False, 0, 1700259200),
            Signed(order=("trader7", 0, False, 3883, 1000332, False, 0, 1700259200)),
            ("trader4", 0, True, 3883, 1000332, False, 0, 1700259200),
            Signed(order=("trader4", 0, True, 3883, 1000332, False, 0, 1700259200)),
            3883,
            1000332,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(60,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 1, False, 6, 25115875, False, 2, 1700259260),
            Signed(order=("trader7", 1, False, 6, 25115875, False, 2, 1700259260)),
            ("trader4", 1, True, 6, 25115875, False, 2, 1700259260),
            Signed(order=("trader4", 1, True, 6, 25115875, False, 2, 1700259260)),
            6,
            25115875,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(1000000000,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 720234, 1700172864)),
    Call(target="engine", fn="deposit", sender="trader2", args=(20000000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 0, True, 12495, 720234, False, 10, 1700259264),
            Signed(order=("trader7", 0, True, 12495, 720234, False, 10, 1700259264)),
            ("trader2", 0, False, 12495, 720234, False, 10, 1700259264),
            Signed(order=("trader2", 0, False, 12495, 720234, False, 10, 1700259264)),
            12495,
            720234,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 26518350, 1700345665)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 232796, 1700345667)),
    Call(target="engine", fn="deleverage", sender="trader5", args=("trader4",)),
    Call(target="engine", fn="deleverage", sender="outsider", args=("trader7",)),
    Call(target="engine", fn="deleverage", sender="trader7", args=("trader4",)),
]


def test_keeper_record_ends_with_its_last_position(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
