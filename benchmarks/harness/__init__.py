"""The benchmark harness: bulkops against the documented bound and the official SDK, side by side.

Run it from a source checkout with ``python -m benchmarks`` (it is not installed with the package).
Modules, in the order data flows through them:

- ``spec``        what to run: scenarios, contenders, data sets, run points (frozen, JSON-able)
- ``suites``      the classic and real-size suites, quick variants (which points, sizes, repetitions)
- ``bounds``      the documented bound of each scenario, computed from ``bulkops.limits.profiles``
- ``datagen``     deterministic records (realistic ~1 KB metadata), ID files and import files
- ``parquet_out`` a plain pyarrow writer of the bulk-import Parquet layout (inputs, the SDK loops)
- ``seeding``     template data dirs per data set, seeded once and copied for every run
- ``server``      the local server in a separate process with the run's knobs
- ``suite``       points × repetitions × contenders, alternating order
- ``one_run``     one contender on one point: servers, worker, verification → a result row
- ``runner``      one contender in a fresh process; collects its self-measured figures
- ``worker``      the child side: runs one contender and measures wall, CPU and peak RSS
- ``contenders``  bulkops (library over REST/gRPC, the whole CLI), the SDK's loops (sync REST, asyncio,
                  gRPC), raw load for the server's ceiling
- ``verify``      checks the outcome in the output or the server's data, independent of the contender
- ``summary``     medians per cell, bulkops ÷ each SDK contender
- ``report``      JSON, Markdown tables and PNG plots
- ``cli``         the command line
"""
