"""Raw throughput of the chain backends: MockToken.transfer tx/s, call/s, snapshot+revert/s.

    python -m harness.bench_chains [--n 3000] [--backends embedded,anvil,anvil-auto]

(``anvil-auto`` is AnvilChain(mining="auto"); its snapshot figure may hit the anvil
automine bug described in harness.chains and stall 30 s.)
"""

from __future__ import annotations

import argparse
import time

from harness import artifacts
from harness.abi import encode_call
from harness.chains import make_chain


def bench(name: str, n: int, **kwargs) -> dict[str, float]:
    art = artifacts.load("MockToken")
    chain = make_chain(name, **kwargs)
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
        chain.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=3000, help="transactions per measurement")
    ap.add_argument("--backends", default="embedded,anvil")
    args = ap.parse_args(argv)
    for label in args.backends.split(","):
        name, _, mining = label.partition("-")
        kwargs = {"mining": mining or "manual"} if name == "anvil" else {}
        res = bench(name, args.n, **kwargs)
        print(label.ljust(10), "  ".join(f"{k}={v:,.0f}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    main()
