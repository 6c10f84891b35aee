"""The benchmark harness: bulkops against the documented bound and the official SDK, side by side.

Modules, in the order data flows through them:

- ``spec``      what to run: scenarios, data sets, run points (frozen dataclasses, JSON-able)
- ``suites``    the quick and full suites (which points, how many repetitions)
- ``bounds``    the documented bound of each scenario, computed from ``bulkops.limits.profiles``
- ``datagen``   deterministic records, ID files and import files from a seed
- ``seeding``   a template data dir per data set, seeded once and copied for every run
- ``server``    the local server in a separate process with the run's knobs
- ``runner``    one contender in a fresh process; collects its self-measured figures
- ``worker``    the child side: runs one contender and measures wall, CPU and peak RSS
- ``contenders``  bulkops jobs and the SDK baselines (sync loop, asyncio with a semaphore)
- ``verify``    counts the outcome on the server / in the output, independent of the contender
- ``report``    JSON, Markdown table and PNG plots
"""
