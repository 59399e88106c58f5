"""The ADL stress lab (``python -m harness.lab``, ``make adl-lab``), spec only.

cascade.py      seeded liquidation cascades run through the waterfall, every call recorded
metrics.py      who paid, per round and in total; the objective via rounds.score
adversarial.py  sybil splits, alternating capacities, a deposit around the gap, a capped
                market's shortfall by market ids, the O(1) side-wide counterfactual
rounds.py       metrics from anyone's per-round CSV (``--rounds FILE.csv``)
report.py       report.md, report.html, results.json and the plots
"""
