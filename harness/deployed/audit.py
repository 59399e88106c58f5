"""Audit a deployed instance on a private fork: attach to its contracts (nothing
redeployed), import its state into the spec and check it equals the chain's.

    python -m harness.deployed.audit --manifest deployments/<chain-id>.json --fork-url URL

(``make audit ARGS=...``.) The fork is an anvil of its own (``ForkChain``): the node at
``--fork-url`` is only read. The differential campaign from the imported state is not
run yet. Exit codes: 0 the imported state equals the chain's, 1 a difference (the first
one named), 2 a usage error (no such manifest, another chain's), 3 no fork.
"""

import argparse
import sys

from harness.core.dump import first_difference, spec_dump
from harness.core.state_import import Deployment, chain_dump_of, import_state
from harness.deployed import read_manifest
from harness.evm.anvil import ForkChain
from harness.evm.base import ChainError


def audit(chain, manifest: dict) -> int:
    """Import the instance ``manifest`` records from ``chain`` and compare; 0 or 1."""
    deployment = Deployment.from_manifest(manifest)
    for name, record in manifest["contracts"].items():
        print(f"  {name:12} {record['address']} runtime keccak {record['runtime_keccak']}")
    imported = import_state(chain.rpc, deployment)
    state = imported.state
    print(
        f"imported at block {imported.block}: {len(state.markets)} markets, "
        f"{len(state.accounts)} accounts with collateral or positions, "
        f"{len(state.book.touched)} orders filled or cancelled, "
        f"{len(state.timelock.eta)} Governor calls queued, fund {state.insurance_fund}, "
        f"bad debt {state.bad_debt}"
    )
    spec = spec_dump(state, imported.accounts)
    chain_words = chain_dump_of(chain.rpc, deployment, imported)
    difference = first_difference(spec, chain_words, imported.accounts, {})
    if difference is not None:
        field, spec_value, chain_value = difference
        print(f"DIFFERENCE at {field}: imported {spec_value!r}, chain {chain_value!r}")
        return 1
    print(f"imported state equals the chain's ({len(spec)} words)")
    print("not run: the differential campaign from the imported state")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, help="deployments/<chain-id>.json")
    parser.add_argument("--fork-url", required=True, help="the deployed chain's RPC URL")
    args = parser.parse_args(argv)
    if (manifest := read_manifest(args.manifest)) is None:
        return 2
    try:
        chain = ForkChain(args.fork_url)
    except ChainError as error:
        print(f"--fork-url {args.fork_url}: {error}", file=sys.stderr)
        return 3
    try:
        chain_id = int(chain.rpc("eth_chainId", []), 16)
        if chain_id != manifest["chain_id"]:
            print(
                f"{args.manifest}: records chain {manifest['chain_id']}, "
                f"{args.fork_url} serves {chain_id}",
                file=sys.stderr,
            )
            return 2
        print(f"audit of {args.manifest} on a fork of chain {chain_id} ({args.fork_url}):")
        return audit(chain, manifest)
    finally:
        chain.close()


if __name__ == "__main__":
    sys.exit(main())
