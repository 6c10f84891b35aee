"""Benchmarks for bulkops, run from a source checkout: the harness (``python -m benchmarks``) and the
crash tools (``benchmarks.chaos``). Nothing here is installed with the package or imports ``tests``."""
