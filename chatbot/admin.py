"""Administration, free of any UI: password hashes, the login limiter, the audit log, checked uploads, and
the knowledge-base changes (add a regulation or a newer version, remove one) that rebuild the index in the
background while the public keeps being answered from the index in service.

    python -m chatbot hash-password            # prints scrypt$… for CHATBOT_ADMIN_PASSWORD_HASH
    m = Maintainer(settings, embedder, swap=live.swap, audit=AuditLog("admin/audit.jsonl"))
    up = m.stage("/tmp/upload.pdf", "法规.pdf", user="ops")   # checked, parsed, nothing changed yet
    m.add(up, user="ops"); m.status()                         # the rebuild runs in a thread; swap at the end

The web pages are `chatbot.adminapp`; authentication of those pages is `chatbot.server`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .corpus import CorpusError
from .formats import FormatError, detect_format, read_bytes_document
from .kb import add_regulation, load_kb, preview_add, remove_regulation

# scrypt cost: 2^15 x 8 x 128 bytes = 32 MiB and about 0.1 s a check here, the OWASP minimum for scrypt
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SUFFIX = {"pdf": ".pdf", "docx": ".docx"}   # the stored file's suffix follows its content; text keeps .md/.txt


class AdminError(ValueError):
    """An admin request that cannot be done; the message says why and what to do instead."""


# --- passwords ------------------------------------------------------------------------------------

def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R,
                  p: int = SCRYPT_P) -> str:
    """A salted scrypt hash as one string, scrypt$N$r$p$salt$key (salt and key in base64)."""
    if not password:
        raise AdminError("the password is empty")
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 2**20, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(key)}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """The parts of a `hash_password` string; AdminError when it is not one."""
    parts = (stored or "").strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("not scrypt$N$r$p$salt$key")
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
        if n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16) or len(salt) < 8 or len(key) < 16:
            raise ValueError("parameters out of range")
    except ValueError as e:
        raise AdminError(f"CHATBOT_ADMIN_PASSWORD_HASH is not a password hash ({e}); make one with "
                         "`python -m chatbot hash-password`") from e
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string (constant-time comparison)."""
    n, r, p, salt, key = parse_hash(stored)
    got = hashlib.scrypt((password or "").encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 2**20,
                         dklen=len(key))
    return hmac.compare_digest(got, key)


class LoginLimiter:
    """Failed logins per client: after `max_failures` within `window` seconds, that client must wait until
    the oldest of them is `window` seconds old. A success clears the client's failures.

    lim = LoginLimiter(2, 60); lim.failed("1.2.3.4"); lim.failed("1.2.3.4"); lim.retry_after("1.2.3.4") -> ~60
    """

    def __init__(self, max_failures: int = 5, window: float = 600.0, clock=time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        with self._lock:
            q = self._prune(key)
            return max(0.0, q[0] + self.window - self.clock()) if len(q) >= self.max_failures else 0.0

    def failed(self, key: str) -> None:
        with self._lock:
            self._prune(key).append(self.clock())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str) -> deque:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= self.clock() - self.window:
            q.popleft()
        if len(self._failures) > 10_000:  # forget clients with nothing recent (bounded memory)
            for k in [k for k, v in self._failures.items() if not v and k != key]:
                del self._failures[k]
        return q


# --- audit log ------------------------------------------------------------------------------------

class AuditLog:
    """Admin actions, one JSON line each (time, user, action, target, sha256, outcome, details), appended
    and synced; lines are short, so writers in several processes do not interleave (O_APPEND)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, user: str, action: str, target: str = "", sha256: str = "", outcome: str = "ok",
               **details) -> dict:
        rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "user": user or "", "action": action,
               "target": target, "sha256": sha256, "outcome": outcome, **details}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return rec

    def tail(self, n: int = 50) -> list[dict]:
        """The last `n` records, newest first (unreadable lines skipped)."""
        if not self.path.is_file():
            return []
        out = []
        for line in reversed(self.path.read_bytes().splitlines()[-n:]):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


# --- uploads --------------------------------------------------------------------------------------

@dataclass
class Staged:
    """An upload that passed every check, copied to a private folder, with its parse preview."""
    path: Path                 # the staged copy (named as it will be in corpus/)
    name: str                  # the name it was uploaded as
    sha256: str
    size: int
    options: dict              # title/short/effective/version given by the admin
    preview: dict              # `kb.preview_add`'s description


def safe_name(name: str, kind: str) -> str:
    """A file name for corpus/ from an uploaded one: no folders, no hidden files, no odd characters, and
    the suffix of what the content is (a PDF named .txt is stored as .pdf).

    safe_name("../../etc/中小企业法.PDF", "pdf") -> "中小企业法.pdf"
    """
    stem = Path(str(name).replace("\\", "/")).name
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", stem)
    stem = re.sub(r"[^\w\u3000-\u30ff\u4e00-\u9fff（）()《》·\-]+", "_", stem).strip("._ ") or "regulation"
    suffix = SUFFIX.get(kind) or (".txt" if str(name).lower().endswith(".txt") else ".md")
    return stem[:80] + suffix


def check_upload(data: bytes, name: str, max_bytes: int, max_pages: int) -> tuple[str, str]:
    """(kind, text) of an uploaded regulation, or AdminError saying why it is refused: over the size
    limit, a type other than PDF/.docx/text (by content, not name), a zip bomb or path trick, too many PDF
    pages, an encrypted or image-only PDF, no text. Parsing runs no embedded code (pypdf and python-docx
    read the text layer and XML; macros, scripts and links are never executed)."""
    if not data:
        raise AdminError(f"{name} is empty")
    if len(data) > max_bytes:
        raise AdminError(f"{name} is {len(data) / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB upload limit")
    try:
        kind = detect_format(data, name)
        return kind, read_bytes_document(data, name, max_pages=max_pages)
    except FormatError as e:
        raise AdminError(str(e)) from e


# --- knowledge-base changes -------------------------------------------------------------------------

# how far along a rebuild is, from the messages `index.build` logs
STAGES = (("indexing", 0.15, "解析法规"), ("embedded", 0.75, "生成语义向量"), ("BM25", 0.85, "建立关键词索引"),
          ("relevance gate", 0.9, "校准相关度阈值"), ("wrote", 0.95, "写入索引"))


@dataclass
class Job:
    action: str                # add or remove
    target: str                # the regulation id
    user: str
    state: str = "running"     # running, done, failed
    stage: str = "排队"
    progress: float = 0.0
    message: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_json(self) -> dict:
        end = self.finished or time.time()
        return {"action": self.action, "target": self.target, "user": self.user, "state": self.state,
                "stage": self.stage, "progress": round(self.progress, 2), "message": self.message,
                "seconds": round(end - self.started, 1)}


class Maintainer:
    """Changes to the knowledge base, one at a time, each in a background thread: the corpus change and
    the index build are atomic (`kb.add_regulation`, `index.build`), and `swap(index)` puts the new index
    in service only when it is complete; until then, and if anything fails, the old one answers."""

    def __init__(self, settings: Settings, embedder, swap, audit: AuditLog, staging: str | Path | None = None):
        self.settings = settings
        self.embedder = embedder
        self.swap = swap
        self.audit = audit
        self.staging = Path(staging or tempfile.mkdtemp(prefix="regqa-uploads-"))
        self.max_bytes = int(settings.upload_max_mb * 2**20)
        self._lock = threading.Lock()
        self.job: Job | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.state == "running"

    def regulations(self) -> list[dict]:
        """Every regulation with its status and dates, as `corpus list --json` shows them."""
        from .kb import describe

        return [describe(r) for r in load_kb(self.settings.corpus_dir).regulations]

    def stage(self, path: str | Path, name: str, user: str, **options) -> Staged:
        """Check an uploaded file and preview what adding it would do; nothing in corpus/ or index/ changes.
        `options`: title, short, effective, version (empty = from the text)."""
        options = {k: (v or "").strip() for k, v in options.items() if k in ("title", "short", "effective", "version")}
        try:
            size = Path(path).stat().st_size
            if size > self.max_bytes:  # refused before reading it into memory
                raise AdminError(f"{name} is {size / 2**20:.1f} MB, over the "
                                 f"{self.max_bytes / 2**20:.0f} MB upload limit")
            data = Path(path).read_bytes()
        except OSError as e:
            raise AdminError(f"the upload cannot be read ({e.strerror or e}); upload it again") from e
        digest = hashlib.sha256(data).hexdigest()
        try:
            kind, _ = check_upload(data, name, self.max_bytes, self.settings.upload_max_pages)
            self.staging.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(dir=self.staging))
            staged = folder / safe_name(name, kind)
            staged.write_bytes(data)
            preview = preview_add(self.settings.corpus_dir, staged, **options)
        except (AdminError, CorpusError) as e:
            self.audit.append(user, "upload", name, digest, outcome="refused", reason=str(e))
            raise AdminError(str(e)) from e
        self.audit.append(user, "upload", name, digest, outcome="previewed", id=preview["id"],
                          articles=preview["articles"])
        return Staged(staged, name, digest, len(data), options, preview)

    def add(self, staged: Staged, user: str) -> Job:
        """Add a staged regulation (a newer version of one present supersedes it) and rebuild."""
        def change(rebuild):
            try:
                return add_regulation(self.settings.corpus_dir, staged.path, rebuild=rebuild, **staged.options)
            finally:
                self.discard(staged)

        return self._start("add", staged.preview["id"], user, staged.sha256, change)

    def remove(self, reg_id: str, user: str) -> Job:
        """Remove one regulation (never the primary while others remain) and rebuild."""
        kb = load_kb(self.settings.corpus_dir)
        reg = kb.get(reg_id)
        if reg is None:
            raise AdminError(f"no regulation {reg_id!r} in the knowledge base")
        if reg.primary:
            raise AdminError(f"{reg_id} is the primary regulation (the app's title and default); it cannot be removed")
        source = Path(self.settings.corpus_dir) / reg.source
        digest = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else ""
        return self._start("remove", reg_id, user, digest,
                           lambda rebuild: remove_regulation(self.settings.corpus_dir, reg_id, rebuild=rebuild))

    def _start(self, action: str, target: str, user: str, digest: str, change) -> Job:
        with self._lock:
            if self.busy:
                raise AdminError(f"another change is running ({self.job.action} {self.job.target}); "
                                 "wait until it finishes")
            job = self.job = Job(action, target, user)
            self._thread = threading.Thread(target=self._run, args=(job, digest, change), daemon=True,
                                            name=f"kb-{action}")
            self._thread.start()
        return job

    def _run(self, job: Job, digest: str, change) -> None:
        from .index import build

        built = {}

        def log(msg: str) -> None:
            for key, progress, stage in STAGES:
                if key in msg:
                    job.stage, job.progress = stage, max(job.progress, progress)
            job.message = msg.strip()

        def rebuild(kb):
            job.stage, job.progress = "重建索引", 0.1
            built["index"] = build(kb, self.settings.index_dir, self.embedder, log=log,
                                   gold_file=self.settings.gold_file)

        try:
            change(rebuild)
            job.stage, job.progress = "切换到新索引", 0.98
            self.swap(built["index"])
            job.state, job.stage, job.progress = "done", "完成", 1.0
            job.message = f"{job.action} {job.target}: done, the new index is in service"
            self.audit.append(job.user, job.action, job.target, digest, outcome="done",
                              seconds=round(time.time() - job.started, 1))
        except Exception as e:  # noqa: BLE001 - any failure: the corpus and index were put back
            job.state, job.message = "failed", f"{type(e).__name__}: {e}"
            self.audit.append(job.user, job.action, job.target, digest, outcome="failed", reason=str(e))
        finally:
            job.finished = time.time()

    def wait(self, timeout: float | None = None) -> Job | None:
        """Block until the running change finishes (tests, the command line)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.job

    def discard(self, staged: Staged | None) -> None:
        """Forget a staged upload that was not confirmed."""
        if staged is not None:
            shutil.rmtree(staged.path.parent, ignore_errors=True)
