"""Feedback in SQLite: filters, export, summary, the one-time JSONL import, concurrent writers, and a
writer killed mid-write losing nothing it had acknowledged."""

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from chatbot.feedback import FeedbackError, FeedbackStore
from conftest import ROOT


def rec(rating, question="链长制是什么", day="2026-11-02", refused=False, comment=""):
    return {"time": f"{day}T10:00:00+0000", "rating": rating, "question": question, "answer": "……",
            "citations": ["第八条"], "refused": refused, "comment": comment}


def test_filters_export_and_summary(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.append(rec("helpful", day="2026-11-01"))
    store.append(rec("not_helpful", day="2026-11-02", comment="太短"))
    store.append(rec("not_helpful", "公司注册资本最低多少", day="2026-11-02", refused=True))
    store.append(rec("not_helpful", "公司注册资本最低多少", day="2026-11-03", refused=True))
    store.append(rec(None, "加班费怎么算", day="2026-11-03", refused=True, comment="没找到"))
    assert [r["day"] if "day" in r else r["time"][:10] for r in store.records(rating="not_helpful")] == [
        "2026-11-03", "2026-11-02", "2026-11-02"]
    assert len(store.records(since="2026-11-02", until="2026-11-02")) == 2
    assert [r["comment"] for r in store.records(rating="none")] == ["没找到"]
    rows = list(csv.DictReader(io.StringIO(store.export("csv", rating="helpful"))))
    assert len(rows) == 1 and rows[0]["citations"] == "第八条" and rows[0]["refused"] == "False"
    lines = [json.loads(x) for x in store.export("jsonl").splitlines()]
    assert len(lines) == 5 and lines[0]["citations"] == ["第八条"]
    s = store.summary()
    # 3 of the 4 rated answers were 👎; the question refused twice is what the knowledge base lacks most
    assert s["records"] == 5 and s["not_helpful_share"] == 0.75
    assert s["per_day"]["2026-11-02"] == {"not_helpful": 2} and s["per_day"]["2026-11-03"] == {"not_helpful": 1, "none": 1}
    assert s["most_refused"][0] == ("公司注册资本最低多少", 2)
    with pytest.raises(ValueError, match="rating"):
        store.records(rating="meh")
    with pytest.raises(ValueError, match="csv or jsonl"):
        store.export("xml")


def test_jsonl_feedback_of_earlier_versions_is_imported_once(tmp_path):
    legacy = tmp_path / "feedback.jsonl"
    legacy.write_text(json.dumps(rec("helpful"), ensure_ascii=False) + "\n{broken\n"
                      + json.dumps(rec("not_helpful"), ensure_ascii=False) + "\n", encoding="utf-8")
    store = FeedbackStore(tmp_path / "feedback.sqlite3", legacy=legacy)
    assert [r["rating"] for r in store.records()][::-1] == ["helpful", "not_helpful"]
    again = FeedbackStore(tmp_path / "feedback.sqlite3", legacy=legacy)  # a restart: nothing imported twice
    assert len(again.records()) == 2 and legacy.is_file()
    con = sqlite3.connect(tmp_path / "feedback.sqlite3")
    meta = json.loads(con.execute("SELECT value FROM meta").fetchone()[0])
    assert (meta["imported"], meta["skipped"]) == (2, 1)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writers_lose_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    threads = [threading.Thread(target=lambda n=n: [store.append(rec("helpful", f"q{n}-{i}")) for i in range(25)])
               for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["question"] for r in store.records()}) == 100


WRITER = """
import sys
from chatbot.feedback import FeedbackStore
store = FeedbackStore(sys.argv[1])
for i in range(100000):
    store.append({"rating": "helpful", "question": f"q{i}", "answer": "答" * 2000, "citations": ["第八条"]})
    print(i, flush=True)  # acknowledged: committed and synced
"""


def test_a_writer_killed_mid_write_loses_nothing_it_acknowledged(tmp_path):
    db = tmp_path / "fb.sqlite3"
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                         env=os.environ | {"PYTHONPATH": str(ROOT)})
    acked = -1
    deadline = time.time() + 60
    while acked < 30 and time.time() < deadline:
        acked = int(p.stdout.readline())
    p.send_signal(signal.SIGKILL)  # mid-write: it was appending the next record
    p.wait()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    got = {r["question"] for r in FeedbackStore(db).records()}
    assert {f"q{i}" for i in range(acked + 1)} <= got


def test_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((FeedbackError, OSError)):
        FeedbackStore(blocker / "fb.sqlite3").append(rec("helpful"))
