"""Regression: adl principal net of final settlement.

Exported by ``make export`` from /tmp/camp1/counterexample.json.
When found, it failed with: {
 "kind": "InvariantViolation",
 "message": "invariant adl_keeps_principal: 0x71be63f3384f5fb98995898a86b02fb2426c5788: collateral 1091334455 -> 340686665 (funding 0), kept 577 lots at 0"
}
"""

from harness.core.call import Call, Calldata
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="engine", fn="deposit", sender="trader0", args=(3361000000,)),
    Call(target="engine", fn="deposit", sender="trader2", args=(845000000,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(2885000000,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(1096000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 0, False, 25970, 999768, False, 0, 1700086400),
            b"N\xe8\xd93(\xf7\x08\\\xd4\x9e\x0c\xcf\x90)k\x08\xfe\x96\xd8#\xbfg\xa6\xfc\xdeVm\x81h\xdd\xd3\xb68b\xf9\xb4E\x80!\xa1\xa9a\x19uz'\xe3b8\r;\x80\xae_6,P\xab{T\xc6\xe3 \x08\x1b",
            ("trader4", 0, True, 25970, 999768, False, 0, 1700086400),
            b"\x83\x11\n\xbf\xcd\xb3\xaek\xfaF\x8d\xda{,F\x82\xca\xd8\xbd\x8d\xe9X\xc3\xddo\xef\x10\xc0b\x93K\x1f1kP\x01\x10\x0c\xa4\xf2w3\xd0\xa0\x10\xf0\\7(n\x82\xd7\x03=\x9f\xcd\x0e\xca\xbe\xfc-\x99'{\x1b",
            25970,
            999768,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader2", 0, False, 4237, 997082, False, 2, 1700086400),
            b"\xe5\x7f\x0c\x03S\x90\x870#\xcd\x07\xde\xd9\x0cm\xc9`8-E\xe2\xa3\x01z\xa4\xfd50\xfb^\xfc\\'{\xeb\xda`z\xca \\\xfa/\xcf,\x92\t\x89\xd10\xd9`i\x80P\xcb$\xc1\x9cV\xec\xd1\x1eb\x1c",
            ("trader7", 0, True, 4237, 997082, False, 2, 1700086400),
            b'\x7f\xa5S\xc3x\xb7I\x0b9J\nDs]\xf5e\xd1\xb2]\xd9"\xd0\x0c\xa4\x98\x82\xd6RJW\xbc\xa2\x1e\x19\x99/\xbf\xc0-\xe8\xa0\xcf\xb7$bA\xca|\xae\xaejEJm\xc9\xc3\xc9\x8c\x17|\xd4\xf6\xad|\x1b',
            4237,
            997082,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 1, False, 102, 25031625, False, 8, 1700086401),
            b"\xdfI\xe1P\xf7F\xf5&2\xa9VmJ\xdd\xa7E\x1a\xa1A\xe6\x00G\xa5\xe0\x10\xc0\xf2*\x93:\x0e\xefs\x91\x03>\xe7\x14\xed\x18Z5\xbd\xb1\x7f\xb8\xdb\x1e\xbc\xd5#M)\x9e\x88u\xac\xc8y#!p\x95\xfa\x1b",
            ("trader7", 1, True, 102, 25031625, False, 8, 1700086401),
            b"\xdf\xd9`}0\xf9\xfc\x87\x0f*\xean\xc1\xbaK\x9d\xd7\xfa]#\xa0\x8d\x9csOq\xf6\x15\xd9|\xda\xfcY\xd4%1'\xcf\xce<q\xfa\xbe\x06\xad$\x7f[B\"Yq\xa5\xce\x0e\xd2g\x80\xd6&\xeeU\x93\xf5\x1b",
            102,
            25031625,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(604800,)),
    Call(
        target="governor",
        fn="schedule",
        sender="owner",
        args=("engine", Calldata(fn="delist_market", args=(1,))),
    ),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 5998488, 1700691201)),
    Call(
        target="governor",
        fn="execute",
        sender="outsider",
        args=("engine", Calldata(fn="delist_market", args=(1,))),
    ),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1499619, 1700691201)),
    Call(target="engine", fn="deleverage", sender="trader3", args=("trader0",)),
]


def test_adl_principal_net_of_final_settlement(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
