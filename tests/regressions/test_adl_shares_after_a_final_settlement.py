"""Regression: adl shares after a final settlement.

Exported by ``make export`` from /tmp/camp6/counterexample.json.
When found, it failed with: {
 "kind": "InvariantViolation",
 "message": "invariant adl_pro_rata_shares: policy 1: fills [('0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc', '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65', 1, 93, -4067593755, 92995932406245)]; weights {'0x15d34aaf54267db7d7c367839aaf71a00a2c6a65': 92997905800146}, caps {'0x15d34aaf54267db7d7c367839aaf71a00a2c6a65': 92997905800146}, budget 92995926310789; off by a unit or more: ['0x15d34aaf54267db7d7c367839aaf71a00a2c6a65']"
}
"""

from harness.core.call import Call, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="engine", fn="deposit", sender="trader0", args=(1515000000,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(979000000,)),
    Call(target="engine", fn="deposit", sender="trader5", args=(5453000000,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 800000, 1700000002)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader5", 0, False, 3060, 799706, False, 2, 1700086402),
            Signed(order=("trader5", 0, False, 3060, 799706, False, 2, 1700086402)),
            ("trader1", 0, True, 3060, 799706, False, 2, 1700086402),
            Signed(order=("trader1", 0, True, 3060, 799706, False, 2, 1700086402)),
            3060,
            799706,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 1, True, 93, 22518278, False, 11, 1700086403),
            Signed(order=("trader0", 1, True, 93, 22518278, False, 11, 1700086403)),
            ("trader1", 1, False, 93, 22518278, False, 11, 1700086403),
            Signed(order=("trader1", 1, False, 93, 22518278, False, 11, 1700086403)),
            93,
            22518278,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="settlement", fn="request_exit", sender="trader5", args=(0,)),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 797714, 1700086404)),
    Call(target="settlement", fn="escape", sender="outsider", args=("trader5", 0)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 1000000000000, 1700086404)),
    Call(target="engine", fn="deleverage", sender="trader4", args=("trader1",)),
]


def test_adl_shares_after_a_final_settlement(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
