"""The assistant the app serves from, replaced whole when the index changes.

Two ways an index changes under a running app: this process rebuilt it (an admin change: `swap`), or
another process sharing the index folder did (several app processes behind a load balancer: `reload`,
which a watcher thread calls when the manifest on disk differs from the one in service). Either way the
new index is complete before it is used; a request keeps the assistant it started with to its end, so no
answer mixes two indexes; and if the index on disk cannot be loaded (mid-swap, stale, damaged), the one in
service stays and the check is repeated later. Only a rebuild writes the index; a reload never does.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from .answer import Assistant


class LiveAssistant:
    def __init__(self, assistant: Assistant, log=lambda msg: print(msg, file=sys.stderr)):
        self._current = assistant
        self._lock = threading.Lock()
        self.log = log
        self.reloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> Assistant:
        return self._current

    @property
    def manifest_path(self) -> Path:
        return Path(self._current.settings.index_dir) / "manifest.json"

    def swap(self, index) -> Assistant:
        """Serve from `index` from now on (requests already running finish with the old one)."""
        with self._lock:
            self._current = self._current.with_index(index)
        self.log(f"index in service: {index.manifest.get('chunks')} clauses, "
                 f"{len(index.regulation.regulations)} regulation(s), built {index.manifest.get('created')}")
        return self._current

    def changed(self) -> bool:
        """Whether the manifest on disk differs from the one in service (unreadable: not yet)."""
        try:
            on_disk = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return on_disk != self._current.retriever.index.manifest

    def reload(self) -> bool:
        """Load the index on disk (and the corpus it was built from) if it changed; True if it was swapped in."""
        from .index import StaleIndex, load
        from .kb import load_kb

        if not self.changed():
            return False
        a = self._current
        try:
            kb = load_kb(a.settings.corpus_dir)
            embedder = a.retriever.embedder
            index = load(kb, a.settings.index_dir, embedder.name if embedder is not None else None,
                         gold_file=a.settings.gold_file)
        except (StaleIndex, OSError, ValueError) as e:  # mid-change on disk: try again at the next check
            self.log(f"the index on disk changed but cannot be loaded yet ({e}); still serving the previous one")
            return False
        self.swap(index)
        self.reloads += 1
        return True

    def watch(self, seconds: float) -> None:
        """Check for a changed index every `seconds` in a daemon thread (0: never)."""
        if seconds <= 0 or self._thread is not None:
            return

        def loop():
            while not self._stop.wait(seconds):
                try:
                    self.reload()
                except Exception as e:  # noqa: BLE001 - a watcher must never die
                    self.log(f"index reload failed: {type(e).__name__}: {e}")

        self._thread = threading.Thread(target=loop, daemon=True, name="index-watch")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
