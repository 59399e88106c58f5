"""Regression: adl shares after a final settlement.

Exported by ``make export`` from /tmp/camp6/counterexample.json.
When found, it failed with: {
 "kind": "InvariantViolation",
 "message": "invariant adl_pro_rata_shares: policy 1: fills [('0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc', '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65', 1, 93, -4067593755, 92995932406245)]; weights {'0x15d34aaf54267db7d7c367839aaf71a00a2c6a65': 92997905800146}, caps {'0x15d34aaf54267db7d7c367839aaf71a00a2c6a65': 92997905800146}, budget 92995926310789; off by a unit or more: ['0x15d34aaf54267db7d7c367839aaf71a00a2c6a65']"
}
"""

from harness.core.call import Call
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
            b"W\xca\xdd\xddv\xfbM\x1c\xb6\x18\xf1\xde\xfd\xa73\xaby\xfaZ\xb7\x87%=\xe9\x1b_\xa0?\xcf\xd7<(%\x9e\x97\xf1Z/\xbf\xca\xe8\xab\x8b\xd8\xdd\xc5\x16/\x07\x06\xc2\xb3\xc5x.\xc3%P~\x81\xef>\x93\xed\x1b",
            ("trader1", 0, True, 3060, 799706, False, 2, 1700086402),
            b"G\x96\xcb\xdd9\xb5\xf6\xbf9\x1c\x90&E\x98)7\xf5*\xb2\x8c\xabr\xdb\x8b\xd5:B\xb6\xe9\xd1C,;\xd4\x1e\x03:\x0c\xda\xb1l\xe6\x0f#Ah\xc9\xe3\xa2\x06\x04G\x03\x9a\xea\xaf|\xc3\xb4\xb1\x90/\x89\xfa\x1b",
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
            b"\x01\xd7\x94\x0f\xaf38\x88\xech\xfb\x82\xa2\x8e\xd8\xc1\xc3C\xf0M\xb8\x9agM55e\xb2\\m!9s\xf1\xeb?~\x1b5hF\xfb\x03\xceg\xcf\x1b*:\xde\x9f\xaa\xfd\x06\xd2\x94U\xe5E\xb6\xd4\xf67\xe8\x1b",
            ("trader1", 1, False, 93, 22518278, False, 11, 1700086403),
            b'\xb9]6\xf6\xf79R\xa1\xe0_\xcdfO7\x97k\x87\xa8\x80\x8fX\xd8dZ\xd7a\x9f\x9a\xc0\xe7\xe3\xd9X"\x83nQ\xb1\x102\xa1c\xa44\x18Kw4\xbbt/\xe8\xc7\xa4$W#e\xcc\xe4\x86\x98F\xaf\x1c',
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
