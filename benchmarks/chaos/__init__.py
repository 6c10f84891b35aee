"""Crash tools: run a bulkops job, SIGKILL it at random moments, resume it, and check every record.

Not rate benchmarks (the harness, ``python -m benchmarks``, measures speed): these show at full size
what the test suite shows at reduced size, that a job killed at any moment and rerun ends exactly as if
uninterrupted.

- ``python -m benchmarks.chaos purge``   purge by prefix under kill -9 (and optionally a fault storm);
  then every record is checked: nothing left under the prefix, every neighbour intact
- ``python -m benchmarks.chaos export``  export by prefix under kill -9, checked record by record against
  the seeded data; then import of that export into a second index under kill -9, checked the same way

Modules: ``killer`` (the kill loop), ``job`` (the child process that runs one job), ``purge`` and
``export`` (the two tools), ``__main__`` (the command line). Nothing here imports ``tests``.
"""
