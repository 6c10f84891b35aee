"""Helpers shared by the job, sink and CLI tests (and the kill benchmark): records, wrappers, the driver."""
