"""The chain side, which knows nothing of the spec: the ``Chain`` interface and its types
(``base``), the embedded revm backend (``revm``), anvil and private forks of ape-network
nodes over JSON-RPC (``anvil``), ABI encoding (``abi``) and the compiled contracts
(``artifacts``).

``make_chain("embedded" | "anvil" | "ape:<network choice>")`` returns a backend.
"""

from harness.evm.anvil import AnvilChain, ape_network_chain
from harness.evm.base import Chain
from harness.evm.revm import RevmChain


def make_chain(name: str) -> Chain:
    """``"embedded"`` (revm in process), ``"anvil"`` (a private anvil process) or
    ``"ape:<network choice>"`` (a private fork of a local or fork ape network's node)."""
    if name.startswith("ape:"):
        return ape_network_chain(name.removeprefix("ape:"))
    if name == "embedded":
        return RevmChain()
    if name == "anvil":
        return AnvilChain()
    raise ValueError(f"unknown chain backend {name!r} (expected embedded, anvil or ape:<network>)")
