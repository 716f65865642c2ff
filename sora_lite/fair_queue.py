"""Fair shares of the render queue: per-visitor and per-address limits, one render at a time per visitor,
and a round-robin order so one visitor's jobs cannot push another's single job to the back.

Gradio's queue has one global bound (`max_size`) and first-come order, so one client joining 70 jobs
filled it for everyone. Here every job that asks to join is first admitted (`JobLimits.admit`): a visitor
may have `max_waiting` renders waiting and `max_running` running; one client address (many cookies)
`max_client_renders`; and any visitor `max_events` requests of any kind in flight. A refused join never
enters the queue, and the message says what to wait for. Tickets end when their job leaves the queue
(`alive(event_id)` tells, so a job dropped by a closed tab frees its place too).

Nothing here knows Gradio: `sora_lite.web_guard` wires it to the HTTP layer.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, Iterator, TypeVar

T = TypeVar("T")
JOINING_S = 120.0  # a ticket that never got an event id (the join failed on the way) ends after this


class QueueLimit(PermissionError):
    """A job refused a place in the queue; the message says which limit and what to wait for."""


@dataclass
class Ticket:
    """One admitted job: who asked (visitor, client address), what kind ("render" or "light")."""

    id: int
    visitor: str
    client: str
    kind: str
    created: float = field(default_factory=time.monotonic)
    event_id: str | None = None
    running: bool = False


@dataclass
class JobLimits:
    """Per-visitor and per-address limits on queued and running jobs (defaults: 2 waiting, 1 running)."""

    max_waiting: int = 2
    max_running: int = 1
    max_events: int = 12
    max_client_renders: int = 16
    max_client_events: int = 32
    alive: Callable[[str], bool] | None = None

    def __post_init__(self) -> None:
        self._tickets: dict[int, Ticket] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._running: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(self.max_running))

    # --- joining ------------------------------------------------------------------------------------------
    def admit(self, visitor: str, client: str, kind: str = "render") -> Ticket:
        """A ticket for one job, or QueueLimit with a message for the person who asked."""
        with self._lock:
            self._prune()
            mine = [t for t in self._tickets.values() if t.visitor == visitor]
            theirs = [t for t in self._tickets.values() if t.client == client]
            if len(mine) >= self.max_events:
                raise QueueLimit(f"you have {len(mine)} requests in flight; wait for them to finish")
            if len(theirs) >= self.max_client_events:
                raise QueueLimit("too many requests in flight from your network address; wait for them to finish")
            if kind == "render":
                waiting = sum(1 for t in mine if t.kind == "render" and not t.running)
                running = sum(1 for t in mine if t.kind == "render" and t.running)
                if waiting >= self.max_waiting:
                    raise QueueLimit(
                        f"you already have {waiting} renders waiting" + (f" and {running} running" if running else "")
                        + f"; each visitor may queue {self.max_waiting} and run {self.max_running} at a time, "
                        "so wait for one to finish")
                if sum(1 for t in theirs if t.kind == "render") >= self.max_client_renders:
                    raise QueueLimit(f"{self.max_client_renders} renders are already queued from your network "
                                     "address; wait for one to finish")
            ticket = Ticket(id=next(self._ids), visitor=visitor, client=client, kind=kind)
            self._tickets[ticket.id] = ticket
            return ticket

    def attach(self, ticket: Ticket, event_id: str) -> None:
        """The queue accepted the job under `event_id`: the ticket now lives as long as that event."""
        with self._lock:
            ticket.event_id = event_id

    def drop(self, ticket: Ticket) -> None:
        """The join failed (queue full, bad request): give the place back."""
        with self._lock:
            self._tickets.pop(ticket.id, None)

    def counts(self, visitor: str) -> dict[str, int]:
        with self._lock:
            self._prune()
            mine = [t for t in self._tickets.values() if t.visitor == visitor and t.kind == "render"]
            return {"waiting": sum(not t.running for t in mine), "running": sum(t.running for t in mine)}

    def _prune(self) -> None:
        now = time.monotonic()
        for key, t in list(self._tickets.items()):
            if t.event_id is None:
                if now - t.created > JOINING_S:
                    del self._tickets[key]
            elif self.alive is not None and not t.running and not self.alive(t.event_id):
                del self._tickets[key]

    # --- running ------------------------------------------------------------------------------------------
    @contextmanager
    def running(self, visitor: str) -> Iterator[None]:
        """Hold one of the visitor's `max_running` render places while a render runs; the visitor's next
        render waits here for it (on a one-slot CPU box the fair order means it never has to)."""
        semaphore = self._running[visitor]
        semaphore.acquire()
        with self._lock:
            ticket = next((t for t in sorted(self._tickets.values(), key=lambda t: t.id)
                           if t.visitor == visitor and t.kind == "render" and not t.running), None)
            if ticket is not None:
                ticket.running = True
        try:
            yield
        finally:
            with self._lock:
                if ticket is not None:
                    self._tickets.pop(ticket.id, None)
            semaphore.release()


def fair_order(items: Iterable[T], key: Callable[[T], Hashable], busy: set[Hashable] | None = None) -> list[T]:
    """Round-robin over owners, keeping each owner's own jobs in order: the first job of every owner comes
    before anybody's second. Owners in `busy` (already running something) go after the others in a round."""
    rank: dict[Hashable, int] = defaultdict(int)
    decorated = []
    for position, item in enumerate(items):
        owner = key(item)
        decorated.append((rank[owner], owner in (busy or set()), position, item))
        rank[owner] += 1
    return [item for *_, item in sorted(decorated, key=lambda d: d[:3])]
