"""An anvil chain that counts the pcs every transaction executed, per contract, for
source coverage.

Exact and cheap enough: anvil records each step as it mines (``--steps-tracing``), and
``debug_traceTransaction`` returns them without stack, memory or storage (pc and depth
only). A step's contract is the frame it runs in: the transaction's target at depth 1,
and below it the calls of the call tracer's tree in order, skipping those into code-less
accounts (precompiles, EOAs), which take no steps. The embedded chain's tracer (pyrevm's
EIP-3155 printer) costs about a millisecond a step, too slow for a campaign.
"""

from __future__ import annotations

from collections import Counter

from harness.evm.anvil import AnvilChain
from harness.evm.base import TxResult

_STRUCT_ONLY = {"disableStack": True, "disableStorage": True, "enableMemory": False}


class CoverageAnvilChain(AnvilChain):
    """``AnvilChain`` that keeps ``hits[address][pc]`` (executions of each pc by
    transactions, deployments excluded) and ``initcode[address]`` (what was deployed)."""

    def __init__(self) -> None:
        self.hits: dict[str, Counter] = {}
        self.initcode: dict[str, bytes] = {}
        self._last_hash: str | None = None
        self.counting = True  # off: transactions run uncounted (the standard setup's)
        super().__init__(extra_args=("--steps-tracing",))

    def _send(self, tx: dict) -> dict:
        receipt = super()._send(tx)
        self._last_hash = receipt["transactionHash"]
        return receipt

    def deploy(self, initcode: bytes, sender: str) -> str:
        address = super().deploy(initcode, sender)
        self.initcode[address] = initcode
        return address

    def transact(self, sender: str, to: str, data: bytes) -> TxResult:
        result = super().transact(sender, to, data)
        if self.counting:
            self._count(self._last_hash, to.lower())
        return result

    def _count(self, tx_hash: str, to: str) -> None:
        steps = self.rpc("debug_traceTransaction", [tx_hash, _STRUCT_ONLY])["structLogs"]
        if not steps:
            return
        calls = self.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        # per depth: the frame's address and its child calls still to be entered
        frames = [(to, iter(calls.get("calls", ())))]
        for step in steps:
            depth = step["depth"]
            while depth > len(frames):  # entered a call: the next child that has code
                child = next(c for c in frames[-1][1] if c.get("to", "").lower() in self.initcode)
                frames.append((child["to"].lower(), iter(child.get("calls", ()))))
            del frames[depth:]
            address = frames[-1][0]
            counter = self.hits.get(address)
            if counter is None:
                counter = self.hits[address] = Counter()
            counter[step["pc"]] += 1
