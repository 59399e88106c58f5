"""The differential harness, in layers; each imports only from the layers below it.

campaign/   make fuzz, replay, export, mutate: campaigns, reports, traces, mutants, the
            deliberate bugs' time to report
lab/        make adl-lab: seeded cascades under every ADL policy on the spec, who pays,
            the adversarial scenarios, the CSV scorer, reports, a differential replay
measure/    make bench, bench-chains, gas: throughput and gas figures
vectors/    the JSON test vectors' format and the builder the cases in tests/cases use
core/       the spec beside the chain: calls, the start state, the pair, the state
            dump, invariants, branches, checked sequences, the action policy, the
            hypothesis machine
evm/        the chain side: interface, revm, anvil and ape nodes, ABI, artifacts
pyspec/, deployment/ (outside harness/): the spec, and the deployment parameters
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
