"""Both chain backends behave identically on MockToken."""

from __future__ import annotations

import pytest

from harness.evm import artifacts, make_chain
from harness.evm.abi import EventDecoder, decode_output, encode_call, selector
from harness.evm.base import decode_revert


@pytest.fixture(scope="module")
def token_art():
    return artifacts.load("MockToken")


def _deploy(chain, art):
    return chain.deploy(art.initcode(), chain.accounts[0])


def _balance(chain, art, tok, who):
    r = chain.call(tok, encode_call(art.fn("balanceOf"), [who]))
    assert r.success
    return decode_output(art.fn("balanceOf"), r.output)[0]


def test_accounts(chain):
    assert len(chain.accounts) >= 20
    assert len(set(chain.accounts)) == len(chain.accounts)
    assert all(a == a.lower() and a.startswith("0x") and len(a) == 42 for a in chain.accounts)
    assert chain.name in ("embedded", "anvil")


def test_deploy_mint_transfer_events(chain, token_art):
    a, b = chain.accounts[0], chain.accounts[1]
    tok = _deploy(chain, token_art)
    assert tok == tok.lower() and len(tok) == 42
    ev = EventDecoder(token_art.abi)

    r = chain.transact(a, tok, encode_call(token_art.fn("mint"), [a, 1_000_000]))
    assert r.success and r.reason is None and r.gas_used > 21_000
    assert [ev.decode(lg) for lg in r.logs] == [("Transfer", ("0x" + "00" * 20, a, 1_000_000))]
    assert all(lg.address == tok for lg in r.logs)

    r = chain.transact(a, tok, encode_call(token_art.fn("transfer"), [b, 250]))
    assert r.success
    assert ev.decode_all(r.logs) == [("Transfer", (a, b, 250))]
    assert _balance(chain, token_art, tok, a) == 999_750
    assert _balance(chain, token_art, tok, b) == 250

    r = chain.transact(a, tok, encode_call(token_art.fn("approve"), [b, 7]))
    assert ev.decode_all(r.logs) == [("Approval", (a, b, 7))]


def test_failing_transfer_reason(chain, token_art):
    a, b = chain.accounts[0], chain.accounts[1]
    tok = _deploy(chain, token_art)
    r = chain.transact(b, tok, encode_call(token_art.fn("transfer"), [a, 1]))
    assert not r.success
    assert r.reason == "token: insufficient balance"
    assert r.logs == ()
    r = chain.transact(b, tok, encode_call(token_art.fn("transferFrom"), [a, b, 1]))
    assert (r.success, r.reason) == (False, "token: insufficient allowance")
    # a failed transaction changed nothing
    assert _balance(chain, token_art, tok, a) == 0


def test_revert_without_reason(chain, token_art):
    tok = _deploy(chain, token_art)
    r = chain.transact(chain.accounts[0], tok, selector("nonexistent()"))
    assert not r.success and r.reason is None and r.logs == ()


def test_call(chain, token_art):
    a, b = chain.accounts[0], chain.accounts[1]
    tok = _deploy(chain, token_art)
    chain.transact(a, tok, encode_call(token_art.fn("mint"), [b, 42]))
    r = chain.call(tok, encode_call(token_art.fn("totalSupply"), []))
    assert r.success and decode_output(token_art.fn("totalSupply"), r.output) == (42,)
    r = chain.call(tok, encode_call(token_art.fn("symbol"), []))
    assert decode_output(token_art.fn("symbol"), r.output) == ("mUSDC",)
    # a state-changing call is simulated, not applied
    r = chain.call(tok, encode_call(token_art.fn("transfer"), [a, 2]), sender=b)
    assert r.success and decode_output(token_art.fn("transfer"), r.output) == (True,)
    assert _balance(chain, token_art, tok, b) == 42
    r = chain.call(tok, encode_call(token_art.fn("transfer"), [a, 43]), sender=b)
    assert (r.success, r.reason) == (False, "token: insufficient balance")


def test_snapshot_revert_twice(chain, token_art):
    a, b = chain.accounts[0], chain.accounts[1]
    tok = _deploy(chain, token_art)
    chain.transact(a, tok, encode_call(token_art.fn("mint"), [a, 100]))
    snap = chain.snapshot()
    for amount in (30, 60):
        assert chain.transact(a, tok, encode_call(token_art.fn("transfer"), [b, amount])).success
        assert _balance(chain, token_art, tok, b) == amount
        chain.revert(snap)
        assert _balance(chain, token_art, tok, a) == 100
        assert _balance(chain, token_art, tok, b) == 0
    # the chain still works after reverting, and deploys are rolled back too
    r = chain.transact(a, tok, encode_call(token_art.fn("transfer"), [b, 1]))
    assert r.success


def test_backends_agree(token_art):
    """Same sequence on fresh backends: same addresses, logs and reasons (gas is anvil's)."""
    emb = make_chain("embedded")
    anvil_chain = make_chain("anvil")
    try:
        results = []
        for ch in (emb, anvil_chain):
            a, b, c = ch.accounts[:3]
            tok = _deploy(ch, token_art)
            seq = [
                (a, encode_call(token_art.fn("mint"), [a, 10**9])),
                (a, encode_call(token_art.fn("transfer"), [b, 5])),
                (a, encode_call(token_art.fn("transfer"), [b, 5])),
                (b, encode_call(token_art.fn("transfer"), [c, 10])),
                (c, encode_call(token_art.fn("transfer"), [a, 11])),
                (a, encode_call(token_art.fn("approve"), [c, 2**256 - 1])),
                (c, encode_call(token_art.fn("transferFrom"), [a, c, 3])),
            ]
            out = [tok]
            for sender, data in seq:
                r = ch.transact(sender, tok, data)
                out.append((r.success, r.reason, r.logs))
            results.append(out)
        assert results[0] == results[1]
    finally:
        anvil_chain.close()
        emb.close()


def test_decode_revert_panic():
    assert decode_revert(bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big")) == "panic: 0x11"
    assert decode_revert(b"") is None
