"""Feedback storage: the 👍/👎 records and comments of the web app, in SQLite (WAL mode).

One table, one row per feedback record (time, rating, comment, question, answer, cited labels, refused).
Every write is one transaction committed with `synchronous=FULL`, so a process killed mid-write loses at
most the record being written and never damages the others; WAL lets many readers (filtering, export,
the summary) run while one writer appends. Feedback kept by earlier versions in a JSONL file is imported
once, on first open (the file is left as it was; the import is recorded in the database).

    store = FeedbackStore("feedback/feedback.sqlite3", legacy="feedback/feedback.jsonl")
    store.append({"rating": "not_helpful", "question": "…", "answer": "…", "citations": ["第十条"]})
    store.records(rating="not_helpful", since="2026-11-01"); store.export("csv"); store.summary()
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

RATINGS = ("helpful", "not_helpful")
COLUMNS = ("id", "time", "rating", "comment", "question", "answer", "citations", "refused")
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,            -- ISO 8601 with offset, as written
    rating TEXT,                   -- helpful, not_helpful, or NULL (a comment alone)
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',  -- JSON list of labels
    refused INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS feedback_time ON feedback (time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class FeedbackError(RuntimeError):
    """The feedback database cannot be opened or written; the message says where and why."""


class FeedbackStore:
    def __init__(self, path: str | Path, legacy: str | Path | None = None):
        self.path = Path(path)
        self.legacy = Path(legacy) if legacy else None
        self._lock = threading.Lock()   # one writer at a time within the process; SQLite serializes processes
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA busy_timeout=30000")
        if not self._ready:
            con.executescript(SCHEMA)
            self._migrate(con)
            self._ready = True
        return con

    def _migrate(self, con: sqlite3.Connection) -> None:
        """Import the JSONL feedback of earlier versions once; unreadable lines are skipped and counted."""
        if self.legacy is None or not self.legacy.is_file():
            return
        key = f"migrated:{self.legacy.resolve()}"
        if con.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone():
            return
        rows, bad = [], 0
        for line in self.legacy.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
                rows.append(_row(rec))
            except (ValueError, UnicodeDecodeError):
                bad += 1
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("INSERT INTO feedback (time, rating, comment, question, answer, citations, refused) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute("INSERT INTO meta (key, value) VALUES (?, ?)",
                        (key, json.dumps({"imported": len(rows), "skipped": bad, "at": _now()})))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def append(self, record: dict) -> int:
        """Store one record (committed and synced before returning); returns its id."""
        try:
            with self._lock, closing(self._connect()) as con:
                cur = con.execute("INSERT INTO feedback (time, rating, comment, question, answer, citations, "
                                  "refused) VALUES (?, ?, ?, ?, ?, ?, ?)", _row(record))
                return int(cur.lastrowid)
        except sqlite3.Error as e:
            raise FeedbackError(f"cannot write feedback to {self.path}: {e}") from e

    def records(self, rating: str | None = None, since: str = "", until: str = "", limit: int = 0) -> list[dict]:
        """Records, newest first, filtered by rating (helpful, not_helpful, none) and by date (YYYY-MM-DD,
        both ends included)."""
        where, args = [], []
        if rating == "none":
            where.append("rating IS NULL")
        elif rating:
            if rating not in RATINGS:
                raise ValueError(f"rating must be one of {', '.join(RATINGS)} or none, got {rating!r}")
            where.append("rating = ?")
            args.append(rating)
        if since:
            where.append("substr(time, 1, 10) >= ?")
            args.append(since)
        if until:
            where.append("substr(time, 1, 10) <= ?")
            args.append(until)
        sql = f"SELECT {', '.join(COLUMNS)} FROM feedback"
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        sql += " ORDER BY time DESC, id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        try:
            with closing(self._connect()) as con:
                rows = con.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise FeedbackError(f"cannot read feedback from {self.path}: {e}") from e
        return [dict(zip(COLUMNS, r)) | {"citations": json.loads(r[6]), "refused": bool(r[7])} for r in rows]

    def export(self, fmt: str, **filters) -> str:
        """The filtered records as CSV (citations joined by spaces) or JSONL text."""
        rows = self.records(**filters)
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if fmt != "csv":
            raise ValueError(f"export format must be csv or jsonl, got {fmt!r}")
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r[c] if c != "citations" else " ".join(r[c]) for c in COLUMNS])
        return out.getvalue()

    def summary(self, top: int = 10) -> dict:
        """What the operator needs to see: records per day (and 👎 per day), the share of 👎 among rated
        answers, and the questions most often refused (what the knowledge base lacks)."""
        rows = self.records()
        days: dict[str, Counter] = {}
        for r in rows:
            days.setdefault(r["time"][:10], Counter())[r["rating"] or "none"] += 1
        rated = [r for r in rows if r["rating"]]
        refused = Counter(r["question"].strip() for r in rows if r["refused"] and r["question"].strip())
        return {"records": len(rows),
                "per_day": {d: dict(c) for d, c in sorted(days.items())},
                "not_helpful_share": round(sum(r["rating"] == "not_helpful" for r in rated) / len(rated), 4)
                if rated else None,
                "most_refused": refused.most_common(top)}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _row(rec: dict) -> tuple:
    rating = rec.get("rating")
    if rating not in (*RATINGS, None):
        raise ValueError(f"unknown rating {rating!r}")
    cites = rec.get("citations") or []
    return (str(rec.get("time") or _now()), rating, str(rec.get("comment") or "")[:2000],
            str(rec.get("question") or ""), str(rec.get("answer") or ""),
            json.dumps([str(c) for c in cites], ensure_ascii=False), int(bool(rec.get("refused"))))
