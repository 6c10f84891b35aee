"""What a benchmark run is: scenarios, contenders, data sets and run points, as frozen, JSON-able values.

A :class:`Dataset` fully determines the records on the server before a run (same seed, same bytes), so
every contender at a :class:`Point` starts from an identical copy. A :class:`Point` adds the server's
knobs (latency, limit profile), the file format of an export or import, and the client's (concurrency,
time budget).

Scenarios:

- ``purge-prefix`` / ``purge-ids``     delete the target records (by listing the prefix / from an IDs file)
- ``export-prefix`` / ``export-ids``   write the target records to a JSONL file or a Parquet directory
- ``import``                           upsert a file of the target records into an empty index
- ``copy``                             list → fetch → upsert the target records into a second server
                                       (another "project": its own process and API key)
- ``copy-via-storage``                 the same copy through object storage: export for bulk import to a
                                       directory (``$BULKOPS_BENCH_STORAGE``, an ``s3://`` prefix, else
                                       ``file://`` in the run directory), then the second server's bulk
                                       import of it (bulkops library contenders only)
- ``export-namespaces`` / ``copy-namespaces``   the same over every namespace of a data set with many
                                       small namespaces (namespace-per-tenant)
- ``server-fetch`` / ``server-list``   what the local server itself sustains (fetch of 1,000 records, list
                                       pages of 100), limits off, no latency: its ceiling, not a job

Contenders (``CONTENDERS``): bulkops's jobs through the library (``bulkops`` with its default transport,
``bulkops-rest`` and ``bulkops-grpc`` with ``transport=``), the whole ``bulkops`` executable
(``bulkops-cli``), the official SDK's sync REST loop, its asyncio client and its own gRPC client, and
two raw load generators for the server-ceiling scenarios.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import orjson

__all__ = [
    "BULKOPS_CONTENDERS",
    "CLASSIC_CONTENDERS",
    "CONTENDERS",
    "FORMATS",
    "JOB_CONTENDERS",
    "LOAD_CONTENDERS",
    "REAL_CONTENDERS",
    "SCENARIOS",
    "SDK_CONTENDERS",
    "SERVER_SCENARIOS",
    "Contender",
    "Dataset",
    "Format",
    "Point",
    "Scenario",
    "WorkerSpec",
    "transport_of",
]

Scenario = Literal[
    "purge-prefix",
    "purge-ids",
    "export-prefix",
    "export-ids",
    "import",
    "copy",
    "copy-via-storage",
    "export-namespaces",
    "copy-namespaces",
    "server-fetch",
    "server-list",
]
Contender = Literal[
    "bulkops",
    "bulkops-rest",
    "bulkops-grpc",
    "bulkops-cli",
    "sdk-sync",
    "sdk-async",
    "sdk-grpc",
    "raw-rest",
    "raw-grpc",
]
Format = Literal["jsonl", "parquet"]
MetadataKind = Literal["padding", "realistic"]

SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
SERVER_SCENARIOS: tuple[Scenario, ...] = ("server-fetch", "server-list")
BULKOPS_CONTENDERS: tuple[Contender, ...] = ("bulkops", "bulkops-rest", "bulkops-grpc", "bulkops-cli")
SDK_CONTENDERS: tuple[Contender, ...] = ("sdk-sync", "sdk-async", "sdk-grpc")
LOAD_CONTENDERS: tuple[Contender, ...] = ("raw-rest", "raw-grpc")
JOB_CONTENDERS: tuple[Contender, ...] = (*BULKOPS_CONTENDERS, *SDK_CONTENDERS)
CONTENDERS: tuple[Contender, ...] = (*JOB_CONTENDERS, *LOAD_CONTENDERS)
# The classic suite's three (dimension 8–64); the realistic suite's six.
CLASSIC_CONTENDERS: tuple[Contender, ...] = ("bulkops", "sdk-sync", "sdk-async")
REAL_CONTENDERS: tuple[Contender, ...] = (
    "bulkops-grpc",
    "bulkops-rest",
    "bulkops-cli",
    "sdk-sync",
    "sdk-async",
    "sdk-grpc",
)
FORMATS: tuple[Format, ...] = ("jsonl", "parquet")

_TRANSPORTS: dict[Contender, str] = {
    "bulkops": "auto",
    "bulkops-cli": "auto",
    "bulkops-grpc": "grpc",
    "sdk-grpc": "grpc",
    "raw-grpc": "grpc",
}


def transport_of(contender: Contender) -> str:
    """``rest``, ``grpc``, or ``auto`` (bulkops's default: whatever the host speaks)."""
    return _TRANSPORTS.get(contender, "rest")


INDEX_NAME = "bench"
NAMESPACE = "bench"
TARGET_PREFIX = "acme#"
API_KEY = "bench-key"
TARGET_API_KEY = "bench-target-key"  # the copy target plays another project: its own key


@dataclass(frozen=True, slots=True)
class Dataset:
    """``records`` in one namespace, of which ``target`` carry ``TARGET_PREFIX`` (the rest other tenants).

    With ``namespaces`` > 1 the records are spread evenly over that many namespaces and all of them are
    the target (``target == records``). For ``import`` the index starts empty and the ``target``
    records are the file to load. ``metadata``: ``padding`` (a tenant, a counter and ``metadata_bytes``
    of filler, the classic suite) or ``realistic`` (a text chunk, a source URI, numbers, tags, a flag;
    about ``metadata_bytes`` of JSON on average, lengths varying from record to record).
    """

    records: int
    target: int
    dimension: int = 8
    metadata_bytes: int = 32
    seed: int = 7
    namespaces: int = 1
    metadata: MetadataKind = "padding"

    def __post_init__(self) -> None:
        if not 0 < self.target <= self.records:
            raise ValueError(f"target ({self.target}) must be in 1..records ({self.records})")
        if self.dimension < 1 or self.metadata_bytes < 0:
            raise ValueError("dimension must be ≥ 1 and metadata_bytes ≥ 0")
        if self.namespaces < 1:
            raise ValueError("namespaces must be ≥ 1")
        if self.namespaces > 1 and (self.target != self.records or self.records % self.namespaces):
            raise ValueError(
                "a many-namespace data set targets all its records, the same number per namespace"
            )

    @property
    def key(self) -> str:
        """Stable name of the data set, used for the cached template directory."""
        raw = orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(raw).hexdigest()[:12]

    @property
    def per_namespace(self) -> int:
        return self.records // self.namespaces

    def namespace_names(self) -> list[str]:
        if self.namespaces == 1:
            return [NAMESPACE]
        return [f"ns-{i:05d}" for i in range(self.namespaces)]

    def label(self) -> str:
        spread = f" in {self.namespaces:,} namespaces" if self.namespaces > 1 else ""
        return (
            f"{self.target:,}/{self.records:,} rec{spread}, dim {self.dimension}, "
            f"meta {self.metadata} ~{self.metadata_bytes} B"
        )


@dataclass(frozen=True, slots=True)
class Point:
    """One cell of the results: a scenario on a data set under given server and client knobs."""

    scenario: Scenario
    dataset: Dataset
    latency_ms: float = 25.0
    jitter_ms: float = 0.0
    limits: str = "default"
    format: Format = "jsonl"  # of the export's output / the import's input
    concurrency: int | None = None  # None: bulkops decides; SDK asyncio uses DEFAULT_SDK_CONCURRENCY
    budget_s: float = 20.0  # a run stops after this; its rate is what it achieved until then
    baseline_budget_s: float | None = None  # a shorter stop for the SDK baselines (a steady loop)
    contenders: tuple[Contender, ...] = CLASSIC_CONTENDERS
    groups: tuple[str, ...] = ("table",)  # figures the point feeds: table, latency, concurrency, dimension
    reps: int | None = None  # repetitions of this point (None: the suite's)

    def budget_for(self, contender: Contender) -> float:
        if contender in SDK_CONTENDERS and self.baseline_budget_s is not None:
            return min(self.budget_s, self.baseline_budget_s)
        return self.budget_s

    @property
    def label(self) -> str:
        """The scenario as the table names it (``export-prefix → parquet``, ``purge-ids (strict)``)."""
        text: str = self.scenario
        if self.scenario.startswith(("export", "import")):
            text += f" → {self.format}" if self.scenario.startswith("export") else f" ← {self.format}"
        return text + ("" if self.limits == "default" else f" ({self.limits})")

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["dataset"] = asdict(self.dataset)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Point:
        fields = dict(doc)
        fields["dataset"] = Dataset(**fields["dataset"])
        fields["contenders"] = tuple(fields["contenders"])
        fields["groups"] = tuple(fields["groups"])
        return cls(**fields)


DEFAULT_SDK_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a fresh contender process needs; written as JSON for the child to read.

    ``namespaces``: the namespaces the job works on (one, or all of a many-namespace data set).
    ``target_host`` / ``target_api_key``: the second server of a copy.
    """

    contender: Contender
    scenario: Scenario
    host: str
    namespaces: list[str]
    prefix: str
    dimension: int
    limits: str
    budget_s: float
    format: Format = "jsonl"
    concurrency: int | None = None
    ids_file: str | None = None
    input_file: str | None = None
    output_file: str | None = None
    checkpoint: str | None = None
    api_key: str = API_KEY
    target_host: str | None = None
    target_api_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        """The one namespace of a single-namespace scenario."""
        return self.namespaces[0]

    @property
    def many_namespaces(self) -> bool:
        return self.scenario.endswith("-namespaces")

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> WorkerSpec:
        return cls(**orjson.loads(raw))
