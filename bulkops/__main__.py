"""``python -m bulkops`` runs the CLI."""

from __future__ import annotations

from bulkops.cli.main import main

main()
