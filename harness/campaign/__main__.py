"""``python -m harness.campaign``: the differential fuzz campaign (``make fuzz``)."""

import signal
import sys


def _early(signum, frame):
    # a signal while the modules load: nothing ran, so there is no report to write
    print("interrupted before the campaign started: no report", file=sys.stderr)
    sys.exit(128 + signum)


for _signal in (signal.SIGINT, signal.SIGTERM):
    signal.signal(_signal, _early)

from harness.campaign.fuzz import main  # noqa: E402

sys.exit(main())
