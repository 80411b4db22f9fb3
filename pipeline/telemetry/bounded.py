"""Fixed-size state: an LRU table that counts what it evicts.

Everything a sender can name (sub-agent ids, data source ids, agent addresses in any-agent mode, flows)
lives in one of these, so no stream of datagrams can grow the collector or its metrics page.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, Iterator, TypeVar

from .errors import TelemetryError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `limit` entries; the least recently used one goes first, through `on_evict(key, value)`."""

    __slots__ = ("name", "limit", "evictions", "_data", "_on_evict", "_counter")

    def __init__(self, name: str, limit: int, on_evict: Callable[[K, V], None] | None = None, counter=None):
        if limit < 1:
            raise TelemetryError(f"{name}: size must be at least 1, not {limit}")
        self.name, self.limit, self.evictions = name, limit, 0
        self._data: OrderedDict[K, V] = OrderedDict()
        self._on_evict = on_evict
        self._counter = counter  # a prometheus child counting evictions (optional)

    def get(self, key: K) -> V | None:
        data = self._data
        v = data.get(key)
        if v is not None:
            data.move_to_end(key)
        return v

    def put(self, key: K, value: V) -> None:
        data = self._data
        if key in data:
            data[key] = value
            data.move_to_end(key)
            return
        if len(data) >= self.limit:
            old_key, old = data.popitem(last=False)
            self.evictions += 1
            if self._counter is not None:
                self._counter.inc()
            if self._on_evict is not None:
                self._on_evict(old_key, old)
        data[key] = value

    def swap(self, key: K, value: V) -> V | None:
        """put(key, value) and return the value it replaced (one call on the hot path)."""
        data = self._data
        old = data.get(key)
        if old is not None:
            data[key] = value
            data.move_to_end(key)
            return old
        self.put(key, value)
        return None

    def pop(self, key: K) -> V | None:
        return self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: K) -> bool:
        return key in self._data

    def values(self) -> Iterator[V]:
        return iter(list(self._data.values()))

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(list(self._data.items()))
