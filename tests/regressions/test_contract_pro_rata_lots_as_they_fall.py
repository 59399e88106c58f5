"""Regression: under contract pro-rata the lots close as they fall.

Found by a 45 s campaign under contract pro-rata (2026-12-06, seed 2274) on the first
version of the review's fix that lets each winner keep its last lot while the others
hold the bankrupt size (``adl_allocator.lot_caps``), then applied under every pro-rata
policy. By size the lots a position keeps are its next call's weight: a kept lot moved
the weights beyond the lot a rounding moves, and the keeper's order moved trader6's
charges 13 units past the round's unit. The kept lot now applies under pro-rata on
profit only, whose weights are the round's bases, whatever the lots.

Exported by ``make export`` from the campaign's minimized counterexample (33 calls).
When found, it failed with: {
 "invariant": "adl_order_free",
 "kind": "InvariantViolation",
 "step": 33,
 "fn": "engine.deleverage",
 "message": "invariant adl_order_free: market 1: deleveraging ['trader3', 'trader0'] each by itself charged {'trader6': 1495087, 'trader4': 1280690420, 'trader7': 6414873300}, in the other order {'trader6': 9107551, 'trader4': 1273077956, 'trader7': 6414873300} (rounding unit 7612451)",
 "entry_points": [
  "engine.deleverage"
 ]
}
"""

from harness.core.call import Call, Calldata, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(
        target="governor",
        fn="schedule",
        sender="owner",
        args=(
            "engine",
            Calldata(
                fn="set_market_params",
                args=(1, (200000, 100000, 20000, 100000, 2777777, 0, 1000, 3, 3600, 10000000)),
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
                args=(1, (200000, 100000, 20000, 100000, 2777777, 0, 1000, 3, 3600, 10000000)),
            ),
        ),
    ),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1000000, 1700172800)),
    Call(target="engine", fn="deposit", sender="trader0", args=(3737000000,)),
    Call(target="engine", fn="deposit", sender="trader3", args=(2519778414,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(1622674121,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(4222761801,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 10000000, 1700172801)),
    Call(target="engine", fn="deposit", sender="trader6", args=(2000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader6", 1, False, 1, 10000000, False, 0, 1700259201),
            Signed(order=("trader6", 1, False, 1, 10000000, False, 0, 1700259201)),
            ("trader3", 1, True, 1, 10000000, False, 0, 1700259201),
            Signed(order=("trader3", 1, True, 1, 10000000, False, 0, 1700259201)),
            1,
            10000000,
        ),
    ),
    Call(target="engine", fn="withdraw", sender="trader3", args=(0,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader3", 1, True, 914, 10234990, False, 2, 1700259201),
            Signed(order=("trader3", 1, True, 914, 10234990, False, 2, 1700259201)),
            ("trader4", 1, False, 914, 10234990, False, 2, 1700259201),
            Signed(order=("trader4", 1, False, 914, 10234990, False, 2, 1700259201)),
            914,
            10234990,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader4", 0, False, 1, 1000000, False, 4, 1700259201),
            Signed(order=("trader4", 0, False, 1, 1000000, False, 4, 1700259201)),
            ("trader3", 0, True, 1, 1000000, False, 4, 1700259201),
            Signed(order=("trader3", 0, True, 1, 1000000, False, 4, 1700259201)),
            1,
            1000000,
        ),
    ),
    Call(target="engine", fn="withdraw", sender="trader3", args=(0,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 1, 1700345601)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 875500, 1700345603)),
    Call(target="engine", fn="deleverage", sender="trader5", args=("trader3",)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 1784898, 1700691204)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader7", 1, False, 8514, 1645899, False, 6, 1700777605),
            Signed(order=("trader7", 1, False, 8514, 1645899, False, 6, 1700777605)),
            ("trader0", 1, True, 8514, 1645899, False, 6, 1700777605),
            Signed(order=("trader0", 1, True, 8514, 1645899, False, 6, 1700777605)),
            8514,
            1645899,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 892449, 1700691208)),
    Call(target="engine", fn="deleverage", sender="outsider", args=("trader3",)),
]


def test_contract_pro_rata_lots_as_they_fall(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
