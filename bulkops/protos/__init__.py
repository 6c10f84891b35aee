"""Pinecone's gRPC data plane as messages: the one ``.proto``, its generated module, and the codec.

Shared by the client's gRPC transport and the local server, so both speak exactly the same messages.
``vector_service.proto`` is the contract (written from Pinecone's published field numbers; dense
vectors declared ``bytes``, which is wire-identical to packed ``repeated float``);
``vector_service_pb2`` is protoc's output, never edited (``tests/unit/test_protos.py`` regenerates
and compares it); :mod:`bulkops.protos.methods` lists the RPCs and their paths;
:mod:`bulkops.protos.codec` converts between messages and bulkops values without per-float Python
objects.
"""
