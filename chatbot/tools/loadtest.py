"""Load and soak tests against the running web app, through gradio_client, on loopback only.

Each simulated user is its own gradio_client session (as a browser tab is) and holds a conversation:
a first question about one article, then follow-ups ("第二款呢？", "这条谁负责执行？") that only make
sense with that user's own history. A follow-up whose rewritten question names another user's article
is a crossed conversation. Requests are bounded in count and in time; the run stops by itself.
Reports completed answers, errors, crossed conversations, latency percentiles, throughput, and the
server's memory growth (resident set size, when its pid is given or the server is started here).

Several app processes (behind a load balancer, or given as several URLs) share the load: user n talks to
URL n mod k for its whole conversation (as a load balancer with sticky sessions routes a browser tab).
With `feedback=True` each user rates every answer through /feedback; the report counts the records the
servers acknowledged, to be compared with what the shared feedback database holds.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ..config import ROOT, is_loopback
from ..labels import format_label

# first questions, each about a different article; the follow-ups only make sense with the user's own history
OPENERS = [
    "技术改造有什么支持方式？", "链长制是什么？", "产业集群怎么培育？", "企业创新平台建设有什么要求？",
    "数字化转型政府怎么支持？", "绿色低碳发展有什么要求？", "区域开放合作怎么开展？", "首席质量官制度是什么？",
    "产业基金怎么设立？", "金融机构怎么支持先进制造业？", "产教融合共同体是什么？", "工业文化怎么宣传？",
]
FOLLOW_UPS = ["第二款呢？", "这条谁负责执行？"]
START_TIMEOUT_S = 600.0  # loading the models of a 1.5B set-up on two cores takes minutes
DURATION_S = 600.0       # a load run stops after this long even if answers are still owed
POLL_S = 1.0  # how often the app is polled while it starts, and the server's memory while the load runs


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crossed: list[str] = field(default_factory=list)
    completed: int = 0


@contextmanager
def started_app(options: dict[str, str | None], timeout: float):
    """Start app.py on a free loopback port, wait until it answers, yield (url, pid); stop it afterwards.

    `options` are app.py flags without dashes (backend, model, embed_model); None values are left out.
    Raises RuntimeError when the app exits or does not answer within `timeout` seconds.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    for name, value in options.items():
        if value:
            cmd += [f"--{name.replace('_', '-')}", value]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("app.py did not start; run it by hand to see why") from None
                time.sleep(POLL_S)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # noqa: BLE001 - memory is reported when it can be read
        return None


def run_load(url: str | list[str], users: int, questions: int, duration: float, pid: int | None = None,
             feedback: bool = False) -> dict:
    """`users` concurrent sessions ask until `questions` answers in total or `duration` seconds pass."""
    urls = [url] if isinstance(url, str) else list(url)
    for u in urls:
        if not is_loopback(urlparse(u).hostname or ""):
            raise ValueError(f"load tests run against this machine only (loopback); {u} is not")
    from gradio_client import Client

    res = Result()
    stored: list[int] = []
    lock = threading.Lock()
    budget = [questions]
    deadline = time.monotonic() + duration
    mem = [rss_mb(pid)]

    def take() -> bool:
        with lock:
            if budget[0] <= 0 or time.monotonic() > deadline:
                return False
            budget[0] -= 1
            return True

    def user(n: int):
        try:
            client = Client(urls[n % len(urls)], verbose=False)
        except Exception as e:  # noqa: BLE001
            with lock:
                res.errors.append(f"user {n}: cannot connect: {e}")
            return
        turn = 0
        opener = OPENERS[n % len(OPENERS)]
        expected = None  # the article this user's own last answer cited first
        while take():
            q = opener if turn % 3 == 0 else FOLLOW_UPS[(turn % 3) - 1]
            t0 = time.perf_counter()
            try:
                out = client.predict(q, api_name="/chat")
            except Exception as e:  # noqa: BLE001
                with lock:
                    res.errors.append(f"user {n}: {type(e).__name__}: {e}")
                turn += 1
                continue
            dt = time.perf_counter() - t0
            with lock:
                res.latencies.append(dt)
                if "error" in out:
                    res.errors.append(f"user {n}: {out['error']}")
                else:
                    res.completed += 1
                    if turn % 3 and expected and format_label(expected) not in out.get("standalone", ""):
                        res.crossed.append(f"user {n} (article {expected}) got {out.get('standalone')!r}")
            if isinstance(out, dict) and out.get("citations"):
                expected = out["citations"][0]["article"]
            if feedback and isinstance(out, dict) and "error" not in out:
                try:
                    ack = client.predict("helpful" if turn % 2 else "not_helpful", f"[user {n}] {q}",
                                         out.get("text", ""), " ".join(c["label"] for c in out.get("citations", [])),
                                         "", bool(out.get("refused")), api_name="/feedback")
                    with lock:
                        if "stored" in ack:
                            stored.append(ack["stored"])
                        else:
                            res.errors.append(f"user {n}: feedback: {ack.get('error')}")
                except Exception as e:  # noqa: BLE001
                    with lock:
                        res.errors.append(f"user {n}: feedback: {type(e).__name__}: {e}")
            turn += 1

    t_start = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(POLL_S)
        m = rss_mb(pid)
        if m is not None:
            mem.append(m)
    wall = time.perf_counter() - t_start
    lat = sorted(res.latencies)
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else None  # noqa: E731
    third = max(1, len(mem) // 3)
    report = {
        "users": users, "answers": res.completed, "errors": len(res.errors), "crossed": len(res.crossed),
        "seconds": round(wall, 1), "answers_per_s": round(res.completed / wall, 2) if wall else None,
        "latency_s": {"p50": pct(0.5), "p95": pct(0.95), "max": round(lat[-1], 3) if lat else None,
                      "mean": round(statistics.mean(lat), 3) if lat else None},
        "rss_mb": {"start": _r(mem[0]), "end": _r(mem[-1]), "max": _r(max((m for m in mem if m), default=None)),
                   "growth_last_two_thirds": _r(mem[-1] - mem[third]) if mem[-1] and mem[third] else None},
        "error_samples": res.errors[:5], "crossed_samples": res.crossed[:5],
    }
    if len(urls) > 1:
        report["servers"] = len(urls)
    if feedback:
        report["feedback_stored"] = len(stored)
    return report


def _r(x):
    return round(x, 1) if x is not None else None
