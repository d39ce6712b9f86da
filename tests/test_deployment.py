"""Scale-out on one machine, as docs/deployment.md describes it: two app processes on loopback ports sharing
one corpus and index folder and one feedback database. A regulation added through the admin pages of one is
answered by the other after its reload; a load test spread over both loses no feedback and crosses no
conversations."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chatbot.tools.loadtest import run_load

from test_admin import CORPUS, PASSWORD, PRIMARY, fast_hash, free_port, small_corpus
from conftest import child_env

ROOT = Path(__file__).resolve().parent.parent


def start_app(shared: Path, port: int, log: Path, admin: bool, feedback_db: str) -> subprocess.Popen:
    env = child_env() | {
        "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "CHATBOT_RELOAD_SECONDS": "1",
        "CHATBOT_ADMIN_AUDIT_LOG": str(shared / "audit.jsonl")}
    if admin:
        env |= {"CHATBOT_ADMIN_USER": "ops", "CHATBOT_ADMIN_PASSWORD_HASH": fast_hash()}
    return subprocess.Popen([sys.executable, "app.py", "--backend", "extractive", "--embed-model", "none",
                             "--port", str(port), "--corpus-dir", str(shared / "corpus"),
                             "--index-dir", str(shared / "index"), "--feedback-db", feedback_db],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def wait_up(proc: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("app.py exited:\n" + log.read_text())
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError("app.py did not start:\n" + log.read_text())


def cites(url: str, question: str) -> list[str]:
    from gradio_client import Client

    return [c["regulation"] for c in Client(url, verbose=False).predict(question, "", api_name="/ask")["citations"]]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def feedback_questions(feedback_db: str) -> list[str]:
    if feedback_db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(feedback_db) as con:
            return [q for (q,) in con.execute("SELECT question FROM feedback")]
    with sqlite3.connect(feedback_db) as con:
        return [q for (q,) in con.execute("SELECT question FROM feedback")]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_apps(request, tmp_path):
    """Two app processes over one corpus and index folder, sharing feedback in one SQLite file (one machine)
    or one PostgreSQL database (what several machines would share)."""
    small_corpus(tmp_path)
    feedback_db = (str(tmp_path / "feedback.sqlite3") if request.param == "sqlite"
                   else request.getfixturevalue("pg_server").new_database())
    procs, urls = [], []
    try:
        for i, admin in enumerate((True, False)):  # the first builds the shared index, the second loads it
            port = free_port()
            log = tmp_path / f"app{i}.log"
            procs.append(start_app(tmp_path, port, log, admin, feedback_db))
            urls.append(f"http://127.0.0.1:{port}/")
            wait_up(procs[-1], urls[-1], log)
        yield urls, tmp_path, feedback_db
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_two_processes_share_the_knowledge_base_and_the_feedback(two_apps):
    from gradio_client import Client, handle_file

    (a, b), shared, feedback_db = two_apps
    question = "标准化法第二条讲什么？"
    assert PRIMARY in cites(b, question) or not cites(b, question)
    assert httpx.get(b + "admin/config").status_code == 404  # the admin pages run where they are configured

    admin = Client(a + "admin/", auth=("ops", PASSWORD), verbose=False)
    law = shared / "upload" / "标准化法.md"
    law.parent.mkdir()
    shutil.copy(CORPUS / "standardization-law-2017.md", law)
    assert "中华人民共和国标准化法" in admin.predict(handle_file(str(law)), "", "", "", "", api_name="/preview")
    assert "后台重建索引" in admin.predict(api_name="/confirm")[0]
    wait_for(lambda: "标准化法" in cites(a, question), 120, "the admin's process to answer from the new law")
    # the other process notices the new manifest and loads the index the first one built
    wait_for(lambda: "标准化法" in cites(b, question), 30, "the second process to reload the shared index")

    report = run_load([a, b], users=6, questions=36, duration=240, feedback=True)
    assert report["servers"] == 2 and report["errors"] == 0, report["error_samples"]
    assert report["crossed"] == 0, report["crossed_samples"]
    assert report["answers"] == 36 and report["feedback_stored"] == 36
    questions = feedback_questions(feedback_db)
    assert len(questions) == 36 and {q.split("]")[0] for q in questions} == {f"[user {n}" for n in range(6)}
