"""``python -m benchmarks ...`` runs the benchmark harness (``--help`` lists the options)."""

from __future__ import annotations

import sys

from benchmarks.harness.cli import main

sys.exit(main())
