"""Where IDs come from: list chains (one or fanned out by prefix) and ID files or iterables.

Every source writes :class:`Page` objects into a bounded memory stream. A page belongs to one *chain*
(a list walk, or the one walk through a file) and carries the *position* to resume from once it and all
the chain's earlier pages are handled; the pipeline turns that into the chain's checkpoint watermark.
Pages of one chain are sent in order; chains interleave freely.
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.concurrency import LatencyTracker, RateMeter, in_flight_for
from bulkops.engine.delegation import delegate, in_skips, page_alphabet
from bulkops.engine.fanout import MAX_CHAR, Chain, carve
from bulkops.errors import UsageError
from bulkops.limits import spare_budget_only
from bulkops.models import IdPage, validate_record_id

__all__ = [
    "IdSource",
    "IdsSource",
    "ListSource",
    "Page",
    "counter_digits",
    "estimated_stem_pages",
    "list_all",
    "list_rate_meter",
    "read_ids_file",
]

LIST_PAGE_LIMIT = 100
STEM_PAGES_PER_PROBE = 0.25  # see ListSource._worth_carving
DESCENT_PAGES = 32  # a carve with no likely child needs a sibling this big (ListSource._worth_carving)
DELEGATE_AFTER_PAGES = 4  # a chain shorter than this never delegates: its siblings are likely tiny
DESCENDANT_POLL_SECONDS = 0.02
DELEGATE_RATE_WINDOW = 0.5  # seconds of achieved list rate a delegating source looks back on


@dataclass(frozen=True, slots=True)
class Page:
    """IDs in order from one chain. ``position``: where to resume after it; ``last``: the chain ends."""

    chain: int
    ids: tuple[str, ...]
    position: str | None
    last: bool


def _class_width(char: str) -> int:
    """How many values a counter character of this kind can take (1: not a counter character)."""
    if "0" <= char <= "9":
        return 10
    if "a" <= char <= "z" or "A" <= char <= "Z":
        return 26
    return 1


_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PRECISION = 6  # counter positions read past the first that differs: enough for any page count


def counter_digits(page: Sequence[str]) -> str:
    """The characters the counters in these IDs are likely drawn from, in bitwise order.

    The characters that vary within the page (:func:`~bulkops.engine.delegation.page_alphabet`),
    widened to their whole class: any digit gives ``0-9``; lower-case letters give ``a-f`` when
    none is past ``f`` (hex), else ``a-z``; upper-case likewise; other characters count as seen.
    """
    seen = page_alphabet(page)
    digits: set[str] = set(seen - _DIGITS - _LOWER - _UPPER)
    if seen & _DIGITS:
        digits |= _DIGITS
    for letters in (_LOWER, _UPPER):
        found = seen & letters
        if found:
            first = min(letters)
            hex_part = {chr(ord(first) + i) for i in range(6)}
            digits |= hex_part if found <= hex_part else letters
    return "".join(sorted(digits))


def _share_between(low: str, high: str, digits: str) -> float:
    """The share of a stem's IDs that sort between ``low`` and ``high`` (the rest of two IDs after
    the stem, which differ at their first character), reading them as numbers in the counter's base:
    ``0a3…`` to ``1f2…`` in hex cover about 0x14f / 16³ of the stem. 1 when they cannot be read so."""
    base = len(digits)
    span, unit = 0.0, 1.0
    for a, b in zip(low[:_PRECISION], high[:_PRECISION], strict=False):
        if a not in digits or b not in digits:
            break
        unit /= base
        span += (digits.index(b) - digits.index(a)) * unit
    if unit == 1.0:
        return 1.0
    return min(1.0, span + unit)  # the page holds its last ID too: one unit more


def estimated_stem_pages(page: Sequence[str], level: int) -> float:
    """A guess at how many pages the sibling ``L[:level+1]`` of a full page ending at ``L`` holds.

    A page lying wholly inside ``L[:m]`` (``m`` = the common prefix length of its first and last
    IDs, beyond ``level``) shows that ``L[:m]`` holds at least a page, and as many pages as the page
    covers of it: its first and last IDs read as numbers in the counter's base
    (:func:`counter_digits`) after ``L[:m]``; ``acme#0000a3…..acme#001f2…`` covers about 1/12 of
    ``acme#00``. Counter characters between ``level+1`` and ``m`` make the sibling that many times
    bigger (the counter's base for its own characters, else 10 for a digit and 26 for a letter): for
    ``doc-0000000..doc-0000099`` at the level of the first ``0`` after ``doc-00``, ``10 × 10`` pages.
    Zero when the page does not lie wholly inside ``L[:level+1]`` (the sibling is smaller than a
    page). Only a guess to decide whether carving pays; coverage never depends on it.
    """
    if not page:
        return 0.0
    first, last = page[0], page[-1]
    if len(last) <= level or first[: level + 1] != last[: level + 1]:
        return 0.0
    common = level + 1
    limit = min(len(first), len(last))
    while common < limit and first[common] == last[common]:
        common += 1
    digits = counter_digits(page)
    estimate = 1.0
    for char in last[level + 1 : common]:
        estimate *= len(digits) if char in digits else _class_width(char)
    if len(digits) < 2:
        return estimate
    return estimate / _share_between(first[common:], last[common:], digits)


def list_rate_meter(*, delegate: bool) -> RateMeter:
    """The achieved-list-rate meter a :class:`ListSource` decides fan-out with (share one per job)."""
    return RateMeter(window=DELEGATE_RATE_WINDOW if delegate else 1.0)


class IdSource(Protocol):
    """A resumable producer of pages; :attr:`chains` is its state for the checkpoint."""

    @property
    def chains(self) -> list[Chain]: ...

    def chain(self, chain_id: int) -> Chain:
        """The chain with this id (the pipeline moves its watermark)."""
        ...

    async def run(self, send: MemoryObjectSendStream[Page]) -> None:
        """Send every page, then close ``send``."""
        ...


OnCarve = Callable[[Chain, list[Chain]], None]
First = Literal["walk", "probe", "spare"]  # how a chain's first request goes (ListSource._walk)


class ListSource:
    """List every ID under ``prefix`` (or each of ``prefixes``) with as many chains as the budget can feed.

    ``prefixes``: several prefixes, none of which starts another (their ID ranges are disjoint), each
    walked from its own root chain; the chains then fan out as one pool under one list budget.

    ``chains`` resumes from a checkpoint (chains marked done are skipped). New chains are carved
    (:mod:`bulkops.engine.fanout`) while fewer than ``rate × latency`` chains are running, or
    ``target_chains`` when given (tests force fan-out with it; 1 gives a plain sequential walk).
    ``on_carve(parent, children)`` runs before the children start: the checkpoint persists them there
    (it also runs with no children when a chain's state changes, e.g. a delegating chain resumes).

    ``delegate=True`` (only for jobs that delete every ID they list before the pipeline acknowledges
    it: purge) fans out by delegation (:mod:`bulkops.engine.delegation`) instead of carving.

    ``achieved``: a list-rate meter shared by every source of one job (one source per namespace when
    several namespaces run at once): the list budget is the index's, so a source must not fan out
    when other namespaces already use it. Each source has its own by default.

    ``records``: how many records the namespace holds (its stats' count; None: unknown), an upper bound
    on what is left to list that caps every carve's estimate (:meth:`_worth_carving`). Without it a
    2,000-record namespace of ``doc-000123`` IDs took 331 list requests for its 20 pages: each level's
    counter estimate assumed the whole range in use. Only a hint: a count that lags the namespace
    (listing passes it) stops capping, and coverage never depends on it.
    """

    def __init__(
        self,
        dataplane: DataPlane,
        *,
        namespace: str,
        prefix: str = "",
        prefixes: Sequence[str] = (),
        chains: Iterable[Chain] | None = None,
        list_rate: float | None = 200.0,
        target_chains: int | None = None,
        max_chains: int = 64,
        page_limit: int = LIST_PAGE_LIMIT,
        min_stem_pages: int = 8,
        delegate: bool = False,
        on_carve: OnCarve | None = None,
        achieved: RateMeter | None = None,
        records: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._dp = dataplane
        self._records = records
        self._listed = 0  # IDs listed by every chain of this run (against ``records``)
        self._namespace = namespace
        self._chains: dict[int, Chain] = {c.id: c for c in chains} if chains else {}
        if not self._chains:
            for chain_id, root in enumerate(prefixes or (prefix,)):
                self._chains[chain_id] = Chain(chain_id, root)
        self._next_id = max(self._chains) + 1
        self._list_rate = list_rate
        self._target = target_chains
        self._max_chains = max(1, max_chains)
        self._page_limit = page_limit
        self._min_stem_pages = max(1, min_stem_pages)
        self._on_carve = on_carve
        self._delegate = delegate
        self._children: dict[int, list[int]] = {}
        self._alphabet: set[str] = set()  # characters seen varying within pages (delegation's guess)
        for known in self._chains.values():
            if known.parent is not None:
                self._children.setdefault(known.parent, []).append(known.id)
        self._clock = clock
        self._latency = LatencyTracker()
        self._typical = LatencyTracker(window=64, percentile=0.5)
        # Delegation reacts within half a second: a wave of equal-sized chains ending together
        # leaves the budget unused for most of a one-second window (carving keeps the second: each
        # carve probes up to 126 prefixes).
        self._achieved = achieved or list_rate_meter(delegate=delegate)
        self._running = 0
        self._walkers = 0
        self._limiter = anyio.CapacityLimiter(self._max_chains)
        self._probing = 0  # likely children whose first request has not been answered
        self._probed = anyio.Event()  # set (and replaced) whenever that count reaches zero
        self.requests = 0
        self.carved = 0  # chains created by carving (each costs at least one list request)
        self.saturation = 0.9  # carve only while the achieved list rate is below this share of it

    @property
    def chains(self) -> list[Chain]:
        return list(self._chains.values())

    def chain(self, chain_id: int) -> Chain:
        return self._chains[chain_id]

    @property
    def target(self) -> int:
        """Chains wanted now (Little's law on the list rate and the measured round trip)."""
        if self._target is not None:
            return self._target
        return in_flight_for(self._list_rate, self._latency.service_time, maximum=self._max_chains)

    def _worth_carving(self, chain: Chain, recent: deque[str], page: Sequence[str]) -> bool:
        """Whether the next level's siblings are likely big enough to pay for probing them.

        Never where a child prefix would contain a space (a space in ``L`` between the chain's prefix
        and the level, a control character at the level, or ``L`` ending at the level): Pinecone's
        API reference says a prefix may not contain spaces, so such a chain walks on alone, which is
        always exact. Children are above ``L[level]``, so no prefix with a space or a control
        character below it is sent; DEL (127) still is, as the last sibling of every carve.

        Carving a level costs one list request per sibling above the current character (up to 126),
        most of them empty for typical IDs. It pays only when siblings hold many pages. Siblings tend
        to look alike, so the current sibling (``L[:level+1]``) must hold at least ``min_stem_pages``
        pages and a quarter as many pages as the carve would cost requests: either walked already,
        or estimated from this page (:func:`estimated_stem_pages`), so a big job fans out after its
        first page instead of walking alone for a fraction of a second. With the namespace's count
        (``records``) no estimate exceeds the pages it leaves, and no carve costs more probes than that
        many pages: a small namespace walks alone. Tests that force ``target_chains`` skip the rule.

        A carve with no likely child (no counter digit above ``L[level]``: at a constant separator,
        or past the counter's last digit as in ``acme#5f…``) gains no walker now; it only moves the
        parent to the next level. It pays only when the current sibling holds ``DESCENT_PAGES`` pages
        or more (that level may then pay): near the end of a job every chain reaches its last digit at
        once, and dozens of such carves would spend the budget the last walkers need on probes of
        empty prefixes.
        """
        if self._target is not None:
            return True
        left = self._pages_left()
        last_id = recent[-1]
        level = chain.level
        if len(last_id) <= level or last_id[level] < " " or " " in last_id[len(chain.prefix) : level]:
            return False  # some child prefix would contain a space the caller's prefix does not
        above = last_id[level]
        likely = sum(1 for c in counter_digits(page) if c > above)
        stem_pages = min(estimated_stem_pages(page, level), left)
        if not likely and stem_pages < DESCENT_PAGES:
            return False
        wasted = MAX_CHAR - ord(above) - likely
        if wasted > left:
            return False  # more probes than the pages the namespace's count leaves
        needed = max(self._min_stem_pages, math.ceil(wasted * STEM_PAGES_PER_PROBE))
        if stem_pages >= needed:
            return True
        if len(recent) < needed:
            return False
        return recent[-needed][: level + 1] == last_id[: level + 1]

    def _pages_left(self) -> float:
        """At most how many pages are left to list, from the namespace's count (inf: unknown, or the
        count lags the namespace: more was listed than it says)."""
        if self._records is None or self._listed >= self._records:
            return math.inf
        return (self._records - self._listed) / self._page_limit

    def _worth_delegating(self, chain: Chain, recent: deque[str], page: Sequence[str]) -> bool:
        """Whether this chain's siblings are likely big enough to be worth chains of their own.

        After ``DELEGATE_AFTER_PAGES`` pages, or at once when the page just listed shows the current
        sibling holds that many (:func:`estimated_stem_pages`): a chain handed a big range splits
        after one round trip instead of four, which matters at high latency and whenever a wave of
        equal-sized chains ends together. Tests that force ``target_chains`` skip the rule.
        """
        if self._target is not None or len(recent) >= DELEGATE_AFTER_PAGES:
            return True
        return estimated_stem_pages(page, chain.level) >= DELEGATE_AFTER_PAGES

    def _wants_more_chains(self) -> bool:
        """Fewer chains than Little's law asks for, and the list budget is not used up already.

        Used up: the chains that are walking (a first page with more to come; probes of possibly empty
        children do not count) can already issue ``saturation × list_rate`` requests per second at the
        median latency (which includes any queueing in the limiter, so when the budget is used up this
        estimate is the budget), or the achieved rate over the last second (half a second when
        delegating) is there.
        """
        if self._running >= self.target:
            return False
        if self._target is not None or self._list_rate is None:
            return True
        wanted = self.saturation * self._list_rate
        if self._walkers / self._typical.service_time >= wanted:
            return False
        achieved = self._achieved.rate(self._clock.now())
        return achieved is None or achieved < wanted

    async def run(self, send: MemoryObjectSendStream[Page]) -> None:
        async with send, anyio.create_task_group() as tg:
            for chain in list(self._chains.values()):
                if not chain.done:
                    self._running += 1
                    tg.start_soon(self._walk, tg, chain, send.clone())

    async def _list(self, chain: Chain, token: str | None, *, spare: bool = False) -> IdPage:
        """One list request of ``chain``, timed for Little's law and the achieved rate.

        ``spare``: an unlikely child's first request (see :meth:`_carve`), on spare list budget only
        and not timed: its wait for a gap says nothing about round trips, and the budget it uses is
        budget the walkers left, which must not make the achieved rate look like theirs.
        """
        started = self._clock.now()
        with spare_budget_only() if spare else contextlib.nullcontext():
            result = await self._dp.list_page(
                namespace=self._namespace, prefix=chain.prefix or None, limit=self._page_limit, token=token
            )
        self.requests += 1
        self._listed += len(result.ids)
        if not spare:
            self._latency.observe(self._clock.now() - started)
            self._typical.observe(self._clock.now() - started)
            self._achieved.mark(self._clock.now())
        return result

    async def _next_page(self, chain: Chain, token: str | None, first: First) -> IdPage:
        """The next list request of ``chain``; ``first``: how its first one goes (see :meth:`_walk`)."""
        if first == "spare":
            while self._probing:  # likely children's first requests go ahead of it
                await self._probed.wait()
            return await self._list(chain, token, spare=True)
        try:
            async with self._limiter:
                return await self._list(chain, token)
        finally:
            if first == "probe":
                self._probing -= 1
                if not self._probing:
                    self._probed.set()
                    self._probed = anyio.Event()

    async def _walk(
        self, tg: TaskGroup, chain: Chain, send: MemoryObjectSendStream[Page], first: First = "walk"
    ) -> None:
        """Walk ``chain`` to its end. ``first``: how its first request goes (see :meth:`_carve`):
        ``"probe"`` a likely child's (unlikely ones wait for its answer); ``"spare"`` an unlikely
        child's, after every likely child's first answer and on spare budget, the chain counting as
        running only once that finds more to list."""
        walking = False
        running = first != "spare"
        try:
            async with send:
                token = chain.position
                recent: deque[str] = deque(maxlen=MAX_CHAR)
                sent_upto: str | None = None  # the highest ID this walk has sent (re-reads skip it)
                while True:
                    result = await self._next_page(chain, token, first)
                    if first == "spare" and result.next_token:
                        running = True
                        self._running += 1
                    first = "walk"
                    ids = result.ids
                    kept = [i for i in ids if not in_skips(i, chain.skips)] if chain.skips else list(ids)
                    if sent_upto is not None and kept and kept[0] <= sent_upto:
                        kept = kept[bisect.bisect_right(kept, sent_upto) :]
                    crossed = chain.bound is not None and bool(ids) and ids[-1] >= chain.bound
                    if crossed:
                        assert chain.bound is not None
                        kept = kept[: bisect.bisect_left(kept, chain.bound)]
                    if crossed and chain.skips and self._delegate:
                        # Re-read this page after the wait: its position is the token that fetched it.
                        await send.send(Page(chain.id, tuple(kept), token, False))
                        sent_upto = kept[-1] if kept else sent_upto
                        if walking:
                            walking = False
                            self._walkers -= 1
                        await self._wait_for_descendants(chain)
                        continue
                    last = crossed or not result.next_token
                    recent.append(ids[-1] if ids else "")
                    if not last and not walking:
                        walking = True
                        self._walkers += 1
                    if self._delegate:
                        self._alphabet |= page_alphabet(ids)
                    if not last and ids and self._wants_more_chains():
                        if self._delegate:
                            if self._worth_delegating(chain, recent, ids):
                                self._hand_out(tg, chain, ids[-1], send)
                        elif self._worth_carving(chain, recent, ids):
                            last = self._carve(tg, chain, ids, send)
                    await send.send(Page(chain.id, tuple(kept), None if last else result.next_token, last))
                    sent_upto = kept[-1] if kept else sent_upto
                    if last:
                        return
                    token = result.next_token
        finally:
            if running:
                self._running -= 1
            if walking:
                self._walkers -= 1

    async def _wait_for_descendants(self, chain: Chain) -> None:
        """Park ``chain`` at its bound until every chain it handed out (recursively) is done."""
        self._running -= 1
        try:
            while not all(self._chains[d].done for d in self._descendants(chain.id)):
                await self._clock.sleep(DESCENDANT_POLL_SECONDS)
        finally:
            self._running += 1
        chain.bound = None
        chain.level = len(chain.prefix)  # any level may be handed out again, outside the skips
        if self._on_carve is not None:
            self._on_carve(chain, [])

    def _descendants(self, chain_id: int) -> list[int]:
        out: list[int] = []
        stack = list(self._children.get(chain_id, ()))
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(self._children.get(child, ()))
        return out

    def _hand_out(
        self, tg: TaskGroup, chain: Chain, last_id: str, send: MemoryObjectSendStream[Page]
    ) -> None:
        """Delegate the likely-populated siblings of ``last_id`` to new chains."""
        plan = delegate(chain, last_id, self._alphabet)
        if plan is None:
            return
        children = [
            Chain(self._next_id + i, prefix, parent=chain.id) for i, prefix in enumerate(plan.children)
        ]
        self._next_id += len(children)
        self.carved += len(children)
        chain.skips = tuple(sorted((*chain.skips, *plan.skips)))
        chain.bound, chain.level = plan.bound, plan.level
        if self._on_carve is not None:
            self._on_carve(chain, children)
        self._children.setdefault(chain.id, []).extend(c.id for c in children)
        for child in children:
            self._chains[child.id] = child
            self._running += 1
            tg.start_soon(self._walk, tg, child, send.clone())

    def _carve(
        self, tg: TaskGroup, chain: Chain, page: Sequence[str], send: MemoryObjectSendStream[Page]
    ) -> bool:
        """Hand the next level of ``chain`` to new chains; True if the parent has nothing left.

        The children whose character is one of the page's counter digits (:func:`counter_digits`)
        are the likely populated ones: they start at once. The others (for hex IDs, 64 of the 79
        siblings above ``0``) are almost always empty, but only a request can tell: their first
        request waits for list budget nobody else wants (:func:`~bulkops.limits.spare_budget_only`),
        so it fills the gaps the walkers leave instead of delaying them.
        """
        cut = carve(chain, page[-1])
        if cut is None:
            return False
        digits = counter_digits(page)
        likely = [p for p in cut.children if p[-1] in digits]
        prefixes = likely + [p for p in cut.children if p[-1] not in digits]
        children = [Chain(self._next_id + i, prefix) for i, prefix in enumerate(prefixes)]
        self._next_id += len(children)
        self.carved += len(children)
        chain.bound, chain.level = cut.bound, cut.level
        if self._on_carve is not None:
            self._on_carve(chain, children)
        for i, child in enumerate(children):
            self._chains[child.id] = child
            first: First = "probe" if i < len(likely) or self._target is not None else "spare"
            if first == "probe":
                self._running += 1
                self._probing += 1
            tg.start_soon(self._walk, tg, child, send.clone(), first)
        return cut.finished


class IdsSource:
    """IDs from an iterable (or the lines of a file), as one chain; position = IDs consumed so far.

    Resuming skips the consumed IDs, so the iterable must give the same IDs in the same order again
    (a file does). IDs are validated as they are read; the first bad one raises UsageError.
    """

    def __init__(
        self, ids: Iterable[str], *, chains: Iterable[Chain] | None = None, page_size: int = 1000
    ) -> None:
        self._ids = ids
        known = list(chains) if chains else []
        self._chain = known[0] if known else Chain(0, "")
        self._page_size = page_size

    @property
    def chains(self) -> list[Chain]:
        return [self._chain]

    def chain(self, chain_id: int) -> Chain:
        return self._chain

    async def run(self, send: MemoryObjectSendStream[Page]) -> None:
        async with send:
            if self._chain.done:
                return
            skip = int(self._chain.position or 0)
            consumed = 0
            page: list[str] = []
            for record_id in self._ids:
                consumed += 1
                if consumed <= skip:
                    continue
                page.append(record_id)
                if len(page) >= self._page_size:
                    await send.send(Page(0, tuple(page), str(consumed), False))
                    page = []
            await send.send(Page(0, tuple(page), str(consumed), True))


def read_ids_file(path: str | Path) -> Iterator[str]:
    """The IDs in a text file, one per line (blank lines skipped, surrounding whitespace stripped).

    A line that is not a valid record ID raises UsageError naming the file and line.
    """
    with open(path, encoding="ascii", errors="surrogateescape", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            record_id = line.strip("\r\n")
            if not record_id.strip():
                continue
            problem = validate_record_id(record_id)
            if problem is None and record_id != record_id.strip():
                problem = f"record ID {record_id!r} has leading or trailing whitespace"
            if problem is not None:
                raise UsageError(f"{path}, line {number}: {problem}. Fix the file; nothing was deleted.")
            yield record_id


async def list_all(dataplane: DataPlane, *, namespace: str, prefix: str = "") -> list[str]:
    """Every ID under ``prefix`` by one sequential list walk (small jobs, verification, tests)."""
    out: list[str] = []
    token: str | None = None
    while True:
        page = await dataplane.list_page(namespace=namespace, prefix=prefix or None, limit=100, token=token)
        out.extend(page.ids)
        if not page.next_token:
            return out
        token = page.next_token
