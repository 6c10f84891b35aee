"""The committed gRPC message module is exactly what protoc makes of ``bulkops/protos/vector_service.proto``.

``bulkops/protos/vector_service_pb2.py`` (and its ``.pyi``) are generated, never edited. To regenerate
them after changing the ``.proto``::

    python tests/unit/test_protos.py

The one change made to protoc's output: the line that refuses to run under an older protobuf runtime
than protoc's own is dropped, so users keep the protobuf their other packages need (the module uses
only builder APIs present since protobuf 4.21; ``pyproject.toml`` states the floor).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PROTOS = Path(__file__).resolve().parents[2] / "bulkops" / "protos"
SOURCE = "vector_service.proto"
OUTPUTS = ("vector_service_pb2.py", "vector_service_pb2.pyi")

_VERSION_CHECK = re.compile(
    r"from google\.protobuf import runtime_version as _runtime_version\n"
    r"|_runtime_version\.ValidateProtobufRuntimeVersion\(\n(?:    .*\n)*?\)\n"
)


def generate(out_dir: Path) -> None:
    """Run protoc (grpcio-tools) on the .proto into ``out_dir``, version check removed."""
    import grpc_tools

    includes = Path(grpc_tools.__file__).parent / "_proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{includes}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            SOURCE,
        ],
        check=True,
        cwd=PROTOS,
    )
    module = out_dir / OUTPUTS[0]
    text, removed = _VERSION_CHECK.subn("", module.read_text())
    assert removed == 2, "protoc's output changed shape: update _VERSION_CHECK"
    module.write_text(text)


def test_generated_module_matches_the_proto(tmp_path: Path) -> None:
    generate(tmp_path)
    for name in OUTPUTS:
        assert (tmp_path / name).read_text() == (PROTOS / name).read_text(), (
            f"bulkops/protos/{name} is stale: run `python tests/unit/test_protos.py`"
        )


def test_messages_load_without_the_version_check() -> None:
    from bulkops.protos import vector_service_pb2 as pb

    text = (PROTOS / OUTPUTS[0]).read_text()
    assert "ValidateProtobufRuntimeVersion" not in text
    vector = pb.Vector(id="a", values=b"\x00\x00\x80?")
    assert pb.Vector.FromString(vector.SerializeToString()) == vector
    assert pb.DESCRIPTOR.package == "bulkops.pinecone"


if __name__ == "__main__":
    generate(PROTOS)
    print(f"regenerated {', '.join(OUTPUTS)} in {PROTOS}")
