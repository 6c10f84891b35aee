"""What a benchmark run is: scenarios, data sets and run points, as frozen, JSON-able values.

A :class:`Dataset` fully determines the records on the server before a run (same seed, same bytes), so
every contender at a :class:`Point` starts from an identical copy. A :class:`Point` adds the server's
knobs (latency, limit profile) and the client's (concurrency, time budget).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import orjson

__all__ = [
    "CONTENDERS",
    "SCENARIOS",
    "Contender",
    "Dataset",
    "Point",
    "Scenario",
    "WorkerSpec",
]

Scenario = Literal["purge-prefix", "purge-ids", "export-prefix", "export-ids", "import"]
Contender = Literal["bulkops", "sdk-sync", "sdk-async"]

SCENARIOS: tuple[Scenario, ...] = ("purge-prefix", "purge-ids", "export-prefix", "export-ids", "import")
CONTENDERS: tuple[Contender, ...] = ("bulkops", "sdk-sync", "sdk-async")

INDEX_NAME = "bench"
NAMESPACE = "bench"
TARGET_PREFIX = "acme#"
API_KEY = "bench-key"


@dataclass(frozen=True, slots=True)
class Dataset:
    """``records`` in one namespace, of which ``target`` carry ``TARGET_PREFIX`` (the rest other tenants).

    For ``import`` the index starts empty and the ``target`` records are the file to load.
    """

    records: int
    target: int
    dimension: int = 8
    metadata_bytes: int = 32
    seed: int = 7

    def __post_init__(self) -> None:
        if not 0 < self.target <= self.records:
            raise ValueError(f"target ({self.target}) must be in 1..records ({self.records})")
        if self.dimension < 1 or self.metadata_bytes < 0:
            raise ValueError("dimension must be ≥ 1 and metadata_bytes ≥ 0")

    @property
    def key(self) -> str:
        """Stable name of the data set, used for the cached template directory."""
        raw = orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(raw).hexdigest()[:12]

    def label(self) -> str:
        return f"{self.target:,}/{self.records:,} rec, dim {self.dimension}, meta {self.metadata_bytes} B"


@dataclass(frozen=True, slots=True)
class Point:
    """One cell of the results: a scenario on a data set under given server and client knobs."""

    scenario: Scenario
    dataset: Dataset
    latency_ms: float = 25.0
    jitter_ms: float = 0.0
    limits: str = "default"
    concurrency: int | None = None  # None: bulkops decides; SDK asyncio uses DEFAULT_SDK_CONCURRENCY
    budget_s: float = 20.0  # a run stops after this; its rate is what it achieved until then
    baseline_budget_s: float | None = None  # a shorter stop for the SDK baselines (a steady loop)
    contenders: tuple[Contender, ...] = CONTENDERS
    groups: tuple[str, ...] = ("table",)  # which figures the point feeds: table, latency, concurrency
    reps: int | None = None  # repetitions of this point (None: the suite's)

    def budget_for(self, contender: Contender) -> float:
        if contender != "bulkops" and self.baseline_budget_s is not None:
            return min(self.budget_s, self.baseline_budget_s)
        return self.budget_s

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
    """Everything a fresh contender process needs; written as JSON for the child to read."""

    contender: Contender
    scenario: Scenario
    host: str
    namespace: str
    prefix: str
    dimension: int
    limits: str
    budget_s: float
    concurrency: int | None = None
    ids_file: str | None = None
    input_file: str | None = None
    output_file: str | None = None
    checkpoint: str | None = None
    api_key: str = API_KEY
    extra: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> WorkerSpec:
        return cls(**orjson.loads(raw))
