"""``python -m benchmarks ...`` runs the benchmark harness (same options as ``bulkops bench``)."""

from __future__ import annotations

import sys

from benchmarks.harness.cli import main

sys.exit(main())
