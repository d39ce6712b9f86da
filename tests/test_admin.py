"""The admin area: password hashes, the login limiter, the audit log, checked uploads, background rebuilds
that swap atomically, and the /admin pages behind a login, tested through HTTP and gradio_client."""

from __future__ import annotations

import io
import json
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from chatbot import admin as admin_mod
from chatbot.admin import (AdminError, AuditLog, LoginLimiter, Maintainer, check_upload, hash_password, parse_hash,
                           safe_name, verify_password)
from chatbot.config import Settings

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PRIMARY = "jiangxi-advanced-manufacturing-promotion-regulations-2024"
PASSWORD = "correct horse battery"


def fast_hash(password: str = PASSWORD) -> str:
    return hash_password(password, n=2**12)  # cheap for tests; the product default is 2^15


def small_corpus(tmp: Path, *ids: str) -> Path:
    """A corpus folder with the primary regulation and the given laws of the shipped one."""
    d = tmp / "corpus"
    d.mkdir()
    data = json.loads((CORPUS / "regulations.json").read_text(encoding="utf-8"))
    keep = [e for e in data["regulations"] if e["id"] in (PRIMARY, *ids)]
    for e in keep:
        shutil.copy(CORPUS / e["file"], d / e["file"])
    (d / "regulations.json").write_text(json.dumps({"primary": PRIMARY, "regulations": keep}, ensure_ascii=False),
                                        encoding="utf-8")
    return d


def snapshot(d: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def settings_for(tmp: Path, corpus: Path, **extra) -> Settings:
    return Settings(corpus_dir=str(corpus), index_dir=str(tmp / "index"), embed_model="none", backend="extractive",
                    feedback_file=str(tmp / "fb" / "feedback.jsonl"), admin_audit_log=str(tmp / "audit.jsonl"),
                    reload_seconds=0, **extra)


# --- passwords, limiter, audit ---------------------------------------------------------------------

def test_password_hash_round_trip_and_salt():
    h = fast_hash()
    assert h.startswith("scrypt$4096$8$1$")
    assert verify_password(PASSWORD, h)
    assert not verify_password(PASSWORD + "x", h)
    assert not verify_password("", h)
    assert fast_hash() != h  # a new salt every time


@pytest.mark.parametrize("bad", ["", "plain-password", "scrypt$3$8$1$AAAA$AAAA", "bcrypt$x$y$z$a$b",
                                 "scrypt$4096$8$1$not base64!$AAAA"])
def test_malformed_hash_says_how_to_make_one(bad):
    with pytest.raises(AdminError, match="hash-password"):
        parse_hash(bad)


def test_login_limiter_locks_a_client_out_and_lets_it_back():
    now = [1000.0]
    lim = LoginLimiter(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(2):
        lim.failed("1.2.3.4")
    assert lim.retry_after("1.2.3.4") == 0
    lim.failed("1.2.3.4")
    assert lim.retry_after("1.2.3.4") == pytest.approx(60)
    assert lim.retry_after("5.6.7.8") == 0          # another client is not affected
    now[0] += 30
    assert lim.retry_after("1.2.3.4") == pytest.approx(30)
    now[0] += 31                                     # the first failure is older than the window
    assert lim.retry_after("1.2.3.4") == 0
    lim.failed("1.2.3.4")
    lim.succeeded("1.2.3.4")
    assert lim.retry_after("1.2.3.4") == 0


def test_audit_log_appends_and_reads_newest_first(tmp_path):
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    log.append("ops", "upload", "x.pdf", "ab" * 32, outcome="refused", reason="too big")
    log.append("ops", "add", "law-1", "cd" * 32)
    (tmp_path / "a" / "audit.jsonl").open("a").write("not json\n")
    rows = log.tail()
    assert [r["action"] for r in rows] == ["add", "upload"]
    assert rows[1]["reason"] == "too big" and rows[0]["user"] == "ops" and rows[0]["time"][:2] == "20"


def test_hash_password_command_prints_a_verifiable_hash():
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "chatbot", "hash-password"], input=PASSWORD + "\n", text=True,
                       capture_output=True, cwd=CORPUS.parent, timeout=60)
    assert p.returncode == 0, p.stderr
    assert verify_password(PASSWORD, p.stdout.strip())
    short = subprocess.run([sys.executable, "-m", "chatbot", "hash-password"], input="short\n", text=True,
                           capture_output=True, cwd=CORPUS.parent, timeout=60)
    assert short.returncode == 2 and "at least 10" in short.stderr


def test_admin_settings_need_both_user_and_hash():
    from chatbot.config import SettingsError

    with pytest.raises(SettingsError, match="hash-password"):
        Settings(admin_user="ops")
    assert Settings(admin_user="ops", admin_password_hash=fast_hash()).admin_enabled
    assert not Settings().admin_enabled


# --- uploads ---------------------------------------------------------------------------------------

def test_safe_name_strips_folders_and_follows_the_content():
    assert safe_name("../../etc/中小企业法.PDF", "pdf") == "中小企业法.pdf"
    assert safe_name("..\\x\\法规.txt", "text") == "法规.txt"
    assert safe_name(".hidden.md", "text") == "hidden.md"
    assert safe_name("report.txt", "docx") == "report.docx"   # a Word file named .txt is stored as .docx
    assert safe_name("<script>.md", "text") == "script.md"


def test_check_upload_refuses_by_content_with_a_message():
    law = (CORPUS / "standardization-law-2017.md").read_bytes()
    assert check_upload(law, "标准化法.md", 2**20, 10)[0] == "text"
    with pytest.raises(AdminError, match="empty"):
        check_upload(b"", "x.md", 2**20, 10)
    with pytest.raises(AdminError, match="upload limit"):
        check_upload(law, "x.md", 1000, 10)
    with pytest.raises(AdminError, match="unsupported file type"):
        check_upload(b"MZ\x90\x00" + b"\x00" * 100, "法规.md", 2**20, 10)  # a Windows program named .md
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (300 * 2**20))
    with pytest.raises(AdminError, match="unpack|compress"):
        check_upload(bomb.getvalue(), "法规.docx", 2**20, 10)


def test_stage_previews_without_changing_anything(tmp_path):
    corpus = small_corpus(tmp_path)
    before = snapshot(corpus)
    audit = AuditLog(tmp_path / "audit.jsonl")
    m = Maintainer(settings_for(tmp_path, corpus), None, lambda index: None, audit, staging=tmp_path / "stage")
    src = tmp_path / "up" / "标准化法.md"
    src.parent.mkdir()
    shutil.copy(CORPUS / "standardization-law-2017.md", src)
    staged = m.stage(src, "../标准化法.md", "ops")
    p = staged.preview
    assert p["title"] == "中华人民共和国标准化法" and p["articles"] == 45 and p["status"] == "current"
    assert p["first_articles"][0]["label"] == "第一条" and "标准化" in p["first_articles"][0]["text"]
    assert p["chapter_titles"][0].startswith("第一章") and p["supersedes"] == []
    assert staged.path.name == "标准化法.md" and staged.path.is_file()
    assert snapshot(corpus) == before and not (tmp_path / "index").exists()
    assert audit.tail()[0]["outcome"] == "previewed" and audit.tail()[0]["sha256"] == staged.sha256

    bad = tmp_path / "up" / "notes.md"
    bad.write_text("会议纪要\n\n今天讨论了很多事情。", encoding="utf-8")
    with pytest.raises(AdminError, match="第X条|条"):
        m.stage(bad, "notes.md", "ops")
    assert audit.tail()[0]["outcome"] == "refused"
    assert snapshot(corpus) == before


def test_stage_a_later_version_says_what_it_supersedes(tmp_path):
    corpus = small_corpus(tmp_path, "sme-payment-regulations-2020")
    m = Maintainer(settings_for(tmp_path, corpus), None, lambda index: None, AuditLog(tmp_path / "a.jsonl"),
                   staging=tmp_path / "stage")
    staged = m.stage(CORPUS / "sme-payment-regulations-2025.md", "款项支付条例2025.md", "ops")
    assert staged.preview["supersedes"] == ["sme-payment-regulations-2020"]


# --- background rebuild and swap ------------------------------------------------------------------

def test_add_rebuilds_in_the_background_and_swaps_at_the_end(tmp_path, monkeypatch):
    from chatbot import index as index_mod
    from chatbot.answer import Assistant
    from chatbot.live import LiveAssistant

    corpus = small_corpus(tmp_path)
    s = settings_for(tmp_path, corpus)
    live = LiveAssistant(Assistant.load(s, log=lambda m: None), log=lambda m: None)
    old = live.current
    gate, real_build = threading.Event(), index_mod.build

    def slow_build(*a, **k):
        assert gate.wait(30)
        return real_build(*a, **k)

    monkeypatch.setattr(index_mod, "build", slow_build)
    audit = AuditLog(tmp_path / "audit.jsonl")
    m = Maintainer(s, None, live.swap, audit, staging=tmp_path / "stage")
    staged = m.stage(CORPUS / "standardization-law-2017.md", "标准化法.md", "ops")
    job = m.add(staged, "ops")
    assert job.state == "running" and m.busy
    with pytest.raises(AdminError, match="another change"):
        m.add(staged, "ops")
    # meanwhile the public is answered from the index in service
    assert live.current is old
    assert all(c.regulation == PRIMARY for c in old.ask("标准化法第二条讲什么？").citations)
    gate.set()
    assert m.wait(60).state == "done", job.message
    assert live.current is not old and job.progress == 1.0
    ans = live.current.ask("标准化法第二条讲什么？")
    assert staged.preview["id"] == "标准化法"  # the id comes from the uploaded file's name
    assert ans.citations and ans.citations[0].regulation == "标准化法"
    assert not staged.path.exists()  # the staged copy is removed once added
    assert [r["action"] for r in audit.tail()][:2] == ["add", "upload"] and audit.tail()[0]["outcome"] == "done"


def test_a_failed_rebuild_changes_nothing_and_keeps_serving(tmp_path):
    from chatbot.answer import Assistant
    from chatbot.live import LiveAssistant

    corpus = small_corpus(tmp_path)
    s = settings_for(tmp_path, corpus)
    live = LiveAssistant(Assistant.load(s, log=lambda m: None), log=lambda m: None)
    old, before, index_before = live.current, snapshot(corpus), snapshot(tmp_path / "index")
    (tmp_path / "blocker").write_text("a file where the index folder's parent should be")
    broken = settings_for(tmp_path, corpus).override(index_dir=str(tmp_path / "blocker" / "index"))
    audit = AuditLog(tmp_path / "audit.jsonl")
    m = Maintainer(broken, None, live.swap, audit, staging=tmp_path / "stage")
    m.add(m.stage(CORPUS / "standardization-law-2017.md", "标准化法.md", "ops"), "ops")
    job = m.wait(60)
    assert job.state == "failed" and job.message
    assert snapshot(corpus) == before and snapshot(tmp_path / "index") == index_before
    assert live.current is old
    assert audit.tail()[0]["outcome"] == "failed"


def test_reload_picks_up_an_index_another_process_built(tmp_path):
    from chatbot.answer import Assistant
    from chatbot.index import build
    from chatbot.kb import add_regulation
    from chatbot.live import LiveAssistant

    corpus = small_corpus(tmp_path)
    s = settings_for(tmp_path, corpus)
    live = LiveAssistant(Assistant.load(s, log=lambda m: None), log=lambda m: None)
    assert not live.changed() and not live.reload()
    # "another process" changes the corpus: until the index is rebuilt, nothing is reloaded
    added = add_regulation(corpus, CORPUS / "standardization-law-2017.md")
    assert not live.reload() and len(live.current.regulation.regulations) == 1
    build(added.kb, s.index_dir, None, log=lambda m: None)
    assert live.changed() and live.reload() and live.reloads == 1
    assert [r.id for r in live.current.regulation.regulations] == [PRIMARY, "standardization-law-2017"]
    assert not live.reload()   # once in service, the same manifest is not loaded again


# --- the /admin pages over HTTP --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings):
    import uvicorn

    from chatbot.answer import Assistant
    from chatbot.server import build_server

    server = build_server(settings, Assistant.load(settings, log=lambda m: None), log=lambda m: None)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(server.app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=uv.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, uv, url


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-server")
    s = settings_for(tmp, small_corpus(tmp), admin_user="ops", admin_password_hash=fast_hash())
    server, uv, url = serve(s)
    yield server, url, tmp
    uv.should_exit = True


def test_no_admin_pages_without_credentials(tmp_path):
    server, uv, url = serve(settings_for(tmp_path, small_corpus(tmp_path)))
    try:
        assert server.admin is None
        for path in ("/admin/", "/admin/config", "/admin/gradio_api/info"):
            assert httpx.get(url + path).status_code == 404
        assert httpx.get(url + "/config").status_code == 200  # the public chat needs no login
    finally:
        uv.should_exit = True


ADMIN_ROUTES = [("GET", "/admin/config"), ("GET", "/admin/gradio_api/info"),
                ("POST", "/admin/gradio_api/call/preview"), ("POST", "/admin/gradio_api/call/remove"),
                ("POST", "/admin/gradio_api/call/export_csv"), ("POST", "/admin/gradio_api/queue/join"),
                ("POST", "/admin/gradio_api/upload"), ("POST", "/admin/gradio_api/run/feedback")]


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_every_admin_route_refuses_unauthenticated_calls(admin_server, method, path):
    _, url, _ = admin_server
    r = httpx.request(method, url + path, json={"data": [PRIMARY, True], "fn_index": 0, "session_hash": "x"})
    assert r.status_code == 401, r.text


def test_gradio_client_needs_the_password(admin_server):
    from gradio_client import Client

    server, url, tmp = admin_server
    with pytest.raises(Exception, match="credentials|login"):
        Client(url + "/admin/", verbose=False)
    with pytest.raises(ValueError, match="login"):
        Client(url + "/admin/", auth=("ops", "wrong password"), verbose=False)
    with pytest.raises(ValueError, match="login"):
        Client(url + "/admin/", auth=("root", PASSWORD), verbose=False)
    server.limiter.succeeded("127.0.0.1")
    audit = AuditLog(tmp / "audit.jsonl").tail()
    assert [(r["action"], r["outcome"]) for r in audit[:2]] == [("login", "failed")] * 2
    assert PASSWORD not in (tmp / "audit.jsonl").read_text(encoding="utf-8")


def test_failed_logins_are_rate_limited(admin_server):
    server, url, tmp = admin_server
    try:
        codes = [httpx.post(url + "/admin/login", data={"username": "ops", "password": f"guess {i}"}).status_code
                 for i in range(6)]
        assert codes == [400] * 5 + [429]
        # locked out: even the right password is refused until the window passes
        r = httpx.post(url + "/admin/login", data={"username": "ops", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert AuditLog(tmp / "audit.jsonl").tail()[0]["outcome"] == "rate_limited"
    finally:
        server.limiter.succeeded("127.0.0.1")
    assert httpx.post(url + "/admin/login", data={"username": "ops", "password": PASSWORD}).status_code == 200


def test_upload_preview_confirm_and_the_public_answers_from_the_new_law(admin_server, tmp_path):
    from gradio_client import Client, handle_file

    server, url, tmp = admin_server
    client = Client(url + "/admin/", auth=("ops", PASSWORD), verbose=False)
    exe = tmp_path / "法规.md"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    refusal = client.predict(handle_file(str(exe)), "", "", "", "", api_name="/preview")
    assert "unsupported file type" in refusal and "没有任何改动" in refusal

    law = tmp_path / "标准化法.md"
    shutil.copy(CORPUS / "standardization-law-2017.md", law)
    preview = client.predict(handle_file(str(law)), "", "标准化法", "", "", api_name="/preview")
    assert "中华人民共和国标准化法" in preview and "45 条" in preview and "第一条" in preview
    public = Client(url + "/", verbose=False)
    before = public.predict("标准化法第二条讲什么？", "", api_name="/ask")
    assert all(c["regulation"] == PRIMARY for c in before["citations"])
    status, cleared = client.predict(api_name="/confirm")
    assert cleared == ""  # the preview of what was confirmed is cleared
    assert "后台重建索引" in status, status
    job = server.admin.admin_pages.maintainer.wait(120)
    assert job.state == "done", job.message
    ans = public.predict("标准化法第二条讲什么？", "", api_name="/ask")
    assert ans["citations"] and ans["citations"][0]["regulation"] == "标准化法"
    assert "标准化法" in server.public.webapp.laws_line()
    actions = [(r["action"], r["outcome"], r["user"]) for r in AuditLog(tmp / "audit.jsonl").tail()[:3]]
    assert ("add", "done", "ops") in actions and ("upload", "previewed", "ops") in actions


def test_feedback_review_filters_and_exports(admin_server):
    from gradio_client import Client

    server, url, _ = admin_server
    web = server.public.webapp
    rec = {"question": "用地有什么支持？", "answer": "……【第十四条】", "citations": ["第十四条"], "refused": False}
    web.record_feedback([rec], None, False, "没说清楚")
    web.record_feedback([dict(rec, question="罚款多少？", refused=True)], None, True)
    client = Client(url + "/admin/", auth=("ops", PASSWORD), verbose=False)
    rows, count, summary = client.predict("not_helpful", "", "", api_name="/feedback")
    assert [r[2] for r in rows["data"]] == ["用地有什么支持？"] and "共 1 条" in count
    assert "罚款多少？" in summary and "50%" in summary
    path = client.predict("", "", "", api_name="/export_csv")
    text = Path(path).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("id,time,rating") and "没说清楚" in text and "罚款多少？" in text
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        client.predict("", "yesterday", "", api_name="/export_jsonl")


def test_remove_needs_confirmation_and_never_the_primary(admin_server):
    from gradio_client import Client

    server, url, _ = admin_server
    client = Client(url + "/admin/", auth=("ops", PASSWORD), verbose=False)
    assert "确认删除" in client.predict("标准化法", False, api_name="/remove")
    refused = client.predict(PRIMARY, True, api_name="/remove")
    assert "未开始" in refused and "primary" in refused and not server.admin.admin_pages.maintainer.busy
