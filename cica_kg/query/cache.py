"""The result cache: serialized answers by (build, job)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .job import Answer


class ResultCache:
    """Serialized answers by (build, job); small, in-process, LRU."""

    def __init__(self, entries: int):
        self.entries = entries
        self._data: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._data.get(key)
            if answer is not None:
                self._data.move_to_end(key)
            return answer

    def put(self, key: str, answer: Answer) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._data[key] = answer
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
