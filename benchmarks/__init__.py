"""Benchmarks for bulkops: the harness (``benchmarks.harness``) and per-issue scripts."""
