"""``python -m harness.campaign``: the differential fuzz campaign (``make fuzz``)."""

import sys

from harness.campaign.fuzz import main

sys.exit(main())
