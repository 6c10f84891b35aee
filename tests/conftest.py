"""Settings for the whole test suite (none today: client tests answer through the library's own
``MockTransport`` / ``MockGrpcTransport`` doubles, so no third-party HTTP mock needs patching)."""
