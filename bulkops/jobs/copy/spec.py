"""What a copy is (:class:`CopySpec`): checked before anything is sent, stored in its checkpoint.

A copy reads one index (``source``) and writes another (``destination``), each a :class:`TargetSpec`
of its own (name or host, controller host, limits; never a key). The identity is both indexes, the
source namespaces, the selection and the namespace map; how it verifies and how a missing destination
is created are options (:class:`CopyOptions`) stored beside it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bulkops.errors import Param, UsageError
from bulkops.jobs.ids import IdsInput, IdsSource
from bulkops.jobs.namespaces import NamespaceSelection, label
from bulkops.jobs.selection import Selection, build_selection
from bulkops.jobs.target import TargetSpec

__all__ = ["CopyOptions", "CopySpec", "build_copy", "parse_namespace_map"]

SPEC_VERSION = 1
TO_API_KEY_ENV = "PINECONE_TO_API_KEY"  # the destination's key when none is given (else the source's)


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """How the copy runs; not part of its identity.

    ``verify``: compare record counts per namespace at the end (the destination's counts may lag:
    they are polled for up to ``verify_delay`` seconds); ``verify_sample``: also fetch that many random
    copied records from both sides and compare them (values bit for bit, metadata equal).
    ``create``: create a missing destination index from the source's description, in ``cloud`` /
    ``region`` (None: the source's).
    """

    verify: bool = True
    verify_sample: int = 0
    verify_delay: float = 5.0
    create: bool = True
    cloud: str | None = None
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "verify": self.verify,
            "verify_sample": self.verify_sample,
            "verify_delay": self.verify_delay,
            "create": self.create,
            "cloud": self.cloud,
            "region": self.region,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CopyOptions:
        return cls(
            bool(doc.get("verify", True)),
            int(doc.get("verify_sample", 0)),
            float(doc.get("verify_delay", 5.0)),
            bool(doc.get("create", True)),
            doc.get("cloud"),
            doc.get("region"),
        )


@dataclass(frozen=True, slots=True)
class CopySpec:
    """A copy: from which index and namespaces, which records, to which index and namespaces."""

    kind: ClassVar[str] = "copy"

    source: TargetSpec
    destination: TargetSpec
    namespaces: NamespaceSelection
    selection: Selection
    namespace_map: tuple[tuple[str, str], ...] = ()  # (source, destination) namespace, sorted
    options: CopyOptions = field(default_factory=CopyOptions)

    @property
    def target(self) -> TargetSpec:
        """The index the job reads (what every job's spec names first)."""
        return self.source

    def indexes(self) -> tuple[TargetSpec, ...]:
        return (self.source, self.destination)

    def destination_of(self, namespace: str) -> str:
        """The destination namespace of a source namespace (itself unless mapped)."""
        return dict(self.namespace_map).get(namespace, namespace)

    def identity(self) -> dict[str, Any]:
        return {
            "namespaces": self.namespaces.identity(),
            "selection": self.selection.identity(),
            "namespace_map": [list(pair) for pair in self.namespace_map],
        }

    def describe(self) -> str:
        mapped = ", ".join(f"{label(a)}→{label(b)}" for a, b in self.namespace_map)
        return (
            f"copy {self.selection.describe()} in namespace(s) {self.namespaces.describe()} of "
            f"{self.source.describe()} to {self.destination.describe()}" + (f" ({mapped})" if mapped else "")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "source": self.source.to_json(),
            "destination": self.destination.to_json(),
            "namespaces": self.namespaces.to_json(),
            "selection": self.selection.to_json(),
            "namespace_map": [list(pair) for pair in self.namespace_map],
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CopySpec:
        return cls(
            TargetSpec.from_json(doc["source"]),
            TargetSpec.from_json(doc["destination"]),
            NamespaceSelection.from_json(doc["namespaces"]),
            Selection.from_json(doc["selection"]),
            tuple((str(a), str(b)) for a, b in doc.get("namespace_map") or ()),
            CopyOptions.from_json(doc.get("options") or {}),
        )


def parse_namespace_map(pairs: Sequence[str]) -> dict[str, str]:
    """``SRC=DST`` strings (the CLI's ``--namespace-map``) as a mapping; a source given twice is refused."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, destination = pair.partition("=")
        if not sep:
            raise UsageError(
                Param("namespace_map", pair), " must be SRC=DST (use __default__ for the default namespace)"
            )
        if source in mapping:
            raise UsageError(Param("namespace_map", pair), f": namespace {source!r} is mapped twice")
        mapping[source] = destination
    return mapping


def _namespace_map(
    namespace_map: Mapping[str, str] | None, selected: NamespaceSelection
) -> tuple[tuple[str, str], ...]:
    if not namespace_map:
        return ()
    if not isinstance(namespace_map, Mapping):
        raise UsageError(Param("namespace_map"), " must map source namespaces to destination namespaces")
    pairs: dict[str, str] = {}
    for raw_source, raw_destination in namespace_map.items():
        (source,) = NamespaceSelection.build(namespace=raw_source).names or ("",)
        (destination,) = NamespaceSelection.build(namespace=raw_destination).names or ("",)
        if source in pairs:
            raise UsageError(Param("namespace_map"), f": namespace {label(source)!r} is mapped twice")
        pairs[source] = destination
    if selected.names is not None:
        unread = [s for s in pairs if s not in selected.names]
        if unread:
            raise UsageError(
                Param("namespace_map", f"{label(unread[0])}={label(pairs[unread[0]])}"),
                f" maps namespace {label(unread[0])!r}, which this copy does not read; name it with ",
                Param("namespace"),
                " too, or take every namespace with ",
                Param("all_namespaces", True),
                param="namespace_map",
            )
    return tuple(sorted(pairs.items()))


def build_copy(
    *,
    source: TargetSpec,
    destination: TargetSpec,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    prefix: str | Sequence[str] | None = None,
    ids: IdsSource | IdsInput | None = None,
    filter: Mapping[str, Any] | None = None,
    namespace_map: Mapping[str, str] | None = None,
    verify: bool = True,
    verify_sample: int = 0,
    verify_delay: float = 5.0,
    create: bool = True,
    cloud: str | None = None,
    region: str | None = None,
) -> tuple[CopySpec, IdsInput | None]:
    """Check a copy's arguments (the IDs are read, validated and fingerprinted once) and build its spec.
    Raises UsageError naming the parameter; nothing is sent."""
    selection, prepared = build_selection(
        prefix=None if prefix == "" else prefix, ids=ids, filter=filter, everything=False, required=False
    )
    selected = NamespaceSelection.build(
        namespace=namespace, namespaces=namespaces, all_namespaces=all_namespaces, allow_missing=allow_missing
    )
    if isinstance(verify_sample, bool) or not isinstance(verify_sample, int) or verify_sample < 0:
        raise UsageError(Param("verify_sample", verify_sample), " must be a whole number, 0 or more")
    if not (isinstance(verify_delay, int | float) and math.isfinite(verify_delay) and verify_delay >= 0):
        raise UsageError(
            Param("verify_delay", verify_delay), " must be a finite number of seconds, 0 or more"
        )
    for name, value in (("to_cloud", cloud), ("to_region", region)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise UsageError(Param(name, value), " must be a non-empty name")
    spec = CopySpec(
        source,
        destination,
        selected,
        selection,
        _namespace_map(namespace_map, selected),
        CopyOptions(verify, verify_sample, float(verify_delay), create, cloud, region),
    )
    return spec, prepared


def destination_key(given: str | None) -> str | None:
    """The destination's API key: the one given, else ``PINECONE_TO_API_KEY``, else None (the source's)."""
    return given if given is not None else (os.environ.get(TO_API_KEY_ENV) or None)
