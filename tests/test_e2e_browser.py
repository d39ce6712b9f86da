"""End to end in a real headless browser: Debian's chromium driven by Playwright against `python app.py`
(extractive backend, BM25, no models), on a free loopback port. Saves screenshots to tests/artifacts/."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, child_env

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(tmp: Path, flags: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`python app.py` (extractive, BM25) on a free loopback port with these flags and CHATBOT_* variables,
    once it answers; its log is tmp/app.log."""
    port = free_port()
    env = child_env() | {
        "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"} | env
    proc = subprocess.Popen([sys.executable, "app.py", "--backend", "extractive", "--embed-model", "none",
                             "--port", str(port), "--feedback-file", str(tmp / "feedback.jsonl"), *flags],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "app.log", "w"))
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("app.py exited:\n" + (tmp / "app.log").read_text())
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("app.py did not start in 120 s:\n" + (tmp / "app.log").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    proc, url = start_app(tmp, ["--index-dir", str(tmp / "index")], {"CHATBOT_REPORTS_DIR": str(tmp / "reports")})
    yield url, tmp
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install chromium (.ci/run does this)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def ask(page, question: str):
    page.fill("#question textarea", question)
    page.click("#send")


def ask_and_open_chip(browser, url, question: str, label: str):
    """Ask on a desktop-size page, check the first chip's label, click it; (page, highlighted clause)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    ask(page, question)
    chip = page.locator("#chat a.cite").first
    chip.wait_for(timeout=30000)
    assert chip.inner_text() == label
    chip.click()
    shown = page.locator("#clause-view .hl")
    shown.wait_for(timeout=5000)
    return page, shown


def test_answer_with_citation_chip_and_clause_view(server, browser):
    url, _ = server
    page, shown = ask_and_open_chip(browser, url, "企业用地的亩产效益综合评价是怎么规定的？", "【第十八条】")
    assert "亩产效益综合评价" in shown.inner_text()
    assert page.url.rstrip("/") == url.rstrip("/")  # the conversation stayed on the page
    assert "第十八条" in page.locator("#evidence").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    ask(page, "违反本条例要罚多少钱？")
    refusal = page.locator("#chat .refusal").last
    refusal.wait_for(timeout=30000)
    assert "本知识库收录的法规未对此作出规定" in refusal.inner_text()
    page.close()


def test_a_chip_of_another_law_opens_that_laws_text(server, browser):
    url, _ = server
    page, shown = ask_and_open_chip(browser, url, "中小企业促进法第三十五条讲什么？", "【中小企业促进法第三十五条】")
    assert "自主知识产权" in shown.inner_text()
    assert "中小企业促进法第三十五条" in page.locator("#clause-view h4").inner_text()
    page.get_by_role("tab", name="条例全文").click()
    view = page.locator("#regulation-view")
    assert "《中华人民共和国中小企业促进法》" in view.inner_text() and "已被新版本取代" in view.inner_text()
    page.close()


def test_script_in_a_question_is_shown_as_text(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    ask(page, '<img src=x onerror="alert(1)"> 技术改造有什么支持')
    page.locator("#chat a.cite").first.wait_for(timeout=30000)
    assert fired == []
    assert '<img src=x onerror="alert(1)">' in page.locator("#chat").inner_text()
    page.close()


def test_phone_width(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    # the first screen shows the question box and the example questions, not just an empty chat panel
    page.locator("#question textarea").wait_for(timeout=30000)
    box = page.locator("#question textarea").bounding_box()
    example = page.get_by_text("工厂做技术改造，政府能给什么支持？", exact=True).last.bounding_box()
    assert box["y"] + box["height"] <= 844, f"question box ends at {box['y'] + box['height']:.0f}px"
    assert example["y"] + example["height"] <= 844, f"first example ends at {example['y'] + example['height']:.0f}px"
    page.screenshot(path=str(ARTIFACTS / "phone-first-screen.png"))
    ask(page, "链长制是什么？")
    page.locator("#chat a.cite").first.wait_for(timeout=30000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"page is {width}px wide on a 390px screen"
    page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
    page.close()


def test_concurrent_conversations_do_not_mix(server):
    from chatbot.tools.loadtest import run_load

    url, _ = server
    report = run_load(url, users=3, questions=9, duration=120)
    assert report["errors"] == 0 and report["crossed"] == 0 and report["answers"] == 9, report


def test_load_test_refuses_other_hosts():
    from chatbot.tools.loadtest import run_load

    with pytest.raises(ValueError, match="loopback"):
        run_load("http://192.0.2.1:7860/", users=1, questions=1, duration=1)


def test_evaluation_tab_runs_and_offers_the_report(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="评测").click()
    page.get_by_label("只评测前 N 题（0 = 全部）").fill("3")
    page.click("#run-eval")
    summary = page.locator("#eval-summary")
    summary.get_by_text("Evaluation report").wait_for(timeout=60000)
    assert "Citation precision" in summary.inner_text()
    page.get_by_text(".zip").first.wait_for(timeout=10000)
    _, tmp = server
    assert list((tmp / "reports").glob("*/report.html"))  # the run's report is on disk
    page.close()


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    """app.py with an administrator configured, over a copy of the primary regulation alone."""
    from test_admin import PASSWORD, fast_hash, small_corpus

    tmp = tmp_path_factory.mktemp("admin-app")
    small_corpus(tmp)
    proc, url = start_app(tmp, ["--corpus-dir", str(tmp / "corpus"), "--index-dir", str(tmp / "index")],
                          {"CHATBOT_ADMIN_USER": "ops", "CHATBOT_ADMIN_PASSWORD_HASH": fast_hash(),
                           "CHATBOT_ADMIN_AUDIT_LOG": str(tmp / "audit.jsonl")})
    yield url, tmp, PASSWORD
    proc.terminate()
    proc.wait(timeout=20)


def test_admin_login_upload_preview_confirm_in_the_browser(admin_app, browser):
    url, tmp, password = admin_app
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "admin/")
    page.locator("input[type=password]").wait_for(timeout=30000)
    page.locator("input").first.fill("ops")
    page.fill("input[type=password]", "not the password")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect", exact=False).first.wait_for(timeout=10000)
    page.locator("input").first.fill("ops")
    page.fill("input[type=password]", password)
    page.get_by_role("button", name="Login").click()
    page.locator("#kb-list").wait_for(timeout=30000)
    assert "jiangxi-advanced-manufacturing-promotion-regulations-2024" in page.locator("#kb-list").inner_text()

    law = tmp / "中华人民共和国标准化法.md"
    shutil.copy(ROOT / "corpus" / "standardization-law-2017.md", law)
    page.locator("#kb-upload input[type=file]").set_input_files(str(law))
    page.locator("#kb-upload").get_by_text("中华人民共和国标准化法.md").first.wait_for(timeout=15000)
    page.click("#kb-preview-btn")
    page.locator("#kb-preview").get_by_text("预览：《中华人民共和国标准化法》").wait_for(timeout=30000)
    assert "45 条" in page.locator("#kb-preview").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-preview.png"), full_page=True)
    page.click("#kb-confirm")
    page.locator('#kb-job[data-state="done"]').wait_for(timeout=120000)
    page.locator("#kb-list").get_by_text("中华人民共和国标准化法").first.wait_for(timeout=10000)
    page.screenshot(path=str(ARTIFACTS / "admin-done.png"), full_page=True)
    page.close()

    public = browser.new_page(viewport={"width": 1280, "height": 900})
    public.goto(url)
    public.locator("#laws-line").get_by_text("标准化法", exact=False).wait_for(timeout=30000)
    public.close()
