"""Raw throughput of the chain backends: MockToken.transfer tx/s, call/s, snapshot+revert/s.

python -m harness.measure.bench_chains [--n 3000] [--backends embedded,anvil]
"""

from __future__ import annotations

import argparse
import time

from harness.evm import artifacts, make_chain
from harness.evm.abi import encode_call


def bench(name: str, n: int) -> dict[str, float]:
    """Every figure on a fresh backend ``name``."""
    chain = make_chain(name)
    try:
        return measure(chain, n)
    finally:
        chain.close()


def measure(chain, n: int) -> dict[str, float]:
    """Every figure on ``chain``, which is left as it was (snapshot and revert)."""
    art = artifacts.load("MockToken")
    before = chain.snapshot()
    try:
        a, b = chain.accounts[0], chain.accounts[1]
        tok = chain.deploy(art.initcode(), a)
        chain.transact(a, tok, encode_call(art.fn("mint"), [a, 10**30]))
        ok = encode_call(art.fn("transfer"), [b, 1])
        bad = encode_call(art.fn("transfer"), [a, 10**40])
        view = encode_call(art.fn("balanceOf"), [a])
        out: dict[str, float] = {}

        t = time.perf_counter()
        for _ in range(n):
            chain.transact(a, tok, ok)
        out["transfer_tx_per_s"] = n / (time.perf_counter() - t)

        m = max(n // 5, 50)
        t = time.perf_counter()
        for _ in range(m):
            r = chain.transact(b, tok, bad)
        assert not r.success and r.reason == "token: insufficient balance"
        out["failing_tx_per_s"] = m / (time.perf_counter() - t)

        t = time.perf_counter()
        for _ in range(n):
            chain.call(tok, view)
        out["call_per_s"] = n / (time.perf_counter() - t)

        t = time.perf_counter()
        for _ in range(m):
            s = chain.snapshot()
            chain.transact(a, tok, ok)
            chain.revert(s)
        out["snapshot_tx_revert_per_s"] = m / (time.perf_counter() - t)
        return out
    finally:
        chain.revert(before)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=3000, help="transactions per measurement")
    ap.add_argument("--backends", default="embedded,anvil")
    args = ap.parse_args(argv)
    for name in args.backends.split(","):
        res = bench(name, args.n)
        print(name.ljust(10), "  ".join(f"{k}={v:,.0f}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    main()
