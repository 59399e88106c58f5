"""Deployment of the protocol: parameters as data (``configs/``), independent of the
test harness. ``scripts/deploy.py``, the harness's default deployment, the gas
measurement and the test vectors all read their parameters through ``config.load``."""
