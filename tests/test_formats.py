"""Reading regulations from .docx, PDF and text files (`chatbot.formats`), every input built here in tmp_path.

The PDF is printed by Debian's chromium through Playwright, like the browser tests, from a small
regulation whose paragraphs are known, so what comes back can be compared paragraph by paragraph.
"""

import html
import io
import random
import shutil
import zipfile
from pathlib import Path

import pytest

from chatbot import corpus
from chatbot.formats import (FormatError, PdfLine, fold_compat_chars, join_pdf_lines, normalize_text, read_document,
                             strip_page_furniture, tidy_line)
from chatbot.labels import format_label

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

TITLE = "示例市先进制造业促进条例"
ADOPTION = "（2024年3月26日示例市第十四届人民代表大会常务委员会第七次会议通过）"
CHAPTERS = {1: "第一章　总　　则", 5: "第二章　产业发展"}  # chapter heading before article n, as printed
# article number -> paragraphs; items on their own lines, as `Clause.text` holds them
ARTICLES = {
    1: ["为了促进先进制造业高质量发展，推动传统制造业改造升级，培育壮大新兴产业，根据有关法律、行政法规，"
        "结合本市实际，制定本条例。"],
    2: ["本条例适用于本市行政区域内促进先进制造业发展及其相关活动。"],
    # with 20 characters a line, the first line ends at 。 inside the paragraph
    3: ["本条例所称企业，指各类主体。企业应当依法经营，诚实守信，接受政府及其有关部门的监督管理。"],
    4: ["市人民政府应当加强先进制造业促进工作的领导，建立健全统筹发展工作机制，协调解决发展中的重大问题。",
        "市人民政府工业和信息化主管部门负责本行政区域内先进制造业促进的指导、协调、服务和管理等具体工作。"],
    5: ["市人民政府应当制定先进制造业发展规划，明确发展的总体要求、主要目标和重点任务。",
        "发展规划应当符合下列要求：\n（一）与本级国民经济和社会发展规划相衔接；\n"
        "（二）统筹考虑资源禀赋和产业基础，科学确定发展重点，避免同质化竞争；\n（三）注重产业链上下游配套。"],
    # the second line starts with 第三条, inside a sentence
    6: ["享受扶持政策的企业依照本条例第三条规定，应当按照规定报送有关信息，并对信息的真实性负责。"],
    7: ["本条例自2024年5月1日起施行。"],
}
NUMERALS = "零一二三四五六七八九"


def expected_clauses() -> list[tuple[str, str]]:
    return [(format_label(n, None if len(paras) == 1 else i), text)
            for n, paras in ARTICLES.items() for i, text in enumerate(paras, start=1)]


def parsed_clauses(reg: corpus.Regulation) -> list[tuple[str, str]]:
    return [(c.label, c.text) for c in reg.clauses if c.article]


# --- docx --------------------------------------------------------------------------------------------

def test_docx_joins_runs_tidies_headings_and_drops_the_table_of_contents(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph(TITLE)
    d.add_paragraph(ADOPTION)
    d.add_paragraph("目　　录")
    d.add_paragraph("第一章　总　　则………………1")
    d.add_paragraph("第二章　附　　则………………2")
    d.add_paragraph("第一章　总　　则")
    p = d.add_paragraph()
    p.add_run("第一条").bold = True  # the article number in a run of its own
    p.add_run("　为了规范示例管理，\u200b制定本条例。")
    p = d.add_paragraph()
    p.add_run("第二条")
    p.add_run("　本条例适用于本市。")
    d.add_paragraph("\u3000\u3000市人民政府负责\u00a0实施。")
    d.add_paragraph("第二章　附　　则")
    layout = d.add_table(rows=1, cols=1)  # a one-column layout table: its text is kept
    layout.cell(0, 0).text = "第三条　本条例自2025年1月1日起施行。"
    fees = d.add_table(rows=1, cols=2)  # a grid: left out
    fees.cell(0, 0).text, fees.cell(0, 1).text = "收费项目", "100元"
    d.save(tmp_path / "reg.docx")

    text = read_document(tmp_path / "reg.docx")
    reg = corpus.parse(text)
    assert (reg.title, reg.adoption) == (TITLE, ADOPTION)
    assert reg.chapters == ("第一章 总则", "第二章 附则")  # once each: the 目录 entries are gone
    assert "目录" not in text and "收费项目" not in text
    assert parsed_clauses(reg) == [("第一条", "为了规范示例管理，制定本条例。"),
                                   ("第二条第一款", "本条例适用于本市。"), ("第二条第二款", "市人民政府负责 实施。"),
                                   ("第三条", "本条例自2025年1月1日起施行。")]


def test_docx_text_in_tracked_insertions_content_controls_and_text_boxes_is_read(tmp_path):
    """Word keeps some text outside a paragraph's plain runs: an insertion made with track changes on, a
    content control (a template's field, around a run or around whole paragraphs), a text box holding the
    title. All of it is the law's text; a tracked deletion is not."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from lxml import etree

    def wrapped(tag: str, text: str):
        outer, r, t = OxmlElement(tag), OxmlElement("w:r"), OxmlElement("w:t")
        t.text = text
        r.append(t)
        if tag == "w:sdt":
            content = OxmlElement("w:sdtContent")
            content.append(r)
            outer.append(content)
        else:
            outer.append(r)
        return outer

    d = docx.Document()
    box = d.add_paragraph()._p  # the title in a text box
    box.append(etree.fromstring(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r>'
        f'<w:t>{TITLE}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>'))
    p = d.add_paragraph("第一条 为了")
    p._p.append(wrapped("w:ins", "促进先进制造业发展，"))
    deleted = OxmlElement("w:del")
    r, t = OxmlElement("w:r"), OxmlElement("w:delText")
    t.text = "已删除的字"
    r.append(t)
    deleted.append(r)
    p._p.append(deleted)
    p.add_run("制定本条例。")
    p = d.add_paragraph("第二条 本条例所称")
    p._p.append(wrapped("w:sdt", "先进制造业"))
    p.add_run("，是指示例。")
    third = d.add_paragraph("第三条 本条例自2025年1月1日起施行。")._p
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    third.addprevious(sdt)
    content.append(third)
    sdt.append(content)
    d.save(tmp_path / "reg.docx")

    reg = corpus.parse(read_document(tmp_path / "reg.docx"))
    assert reg.title == TITLE
    assert [c.text for c in reg.clauses if c.article] == ["为了促进先进制造业发展，制定本条例。", "本条例所称先进制造业，是指示例。",
                                                          "本条例自2025年1月1日起施行。"]


def test_docx_articles_and_items_numbered_by_word_get_their_numbers(tmp_path):
    """Articles numbered by Word's list numbering (第%1条 in Chinese counting), their items one level down
    (（%1）), and a list style's own numbering (1. 2.): the numbers are not in the text, and are written out."""
    import docx
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    d = docx.Document()
    numbering = d.part.numbering_part.element
    numbering.insert(0, etree.fromstring(
        f'<w:abstractNum xmlns:w="{w}" w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1条"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(etree.fromstring(f'<w:num xmlns:w="{w}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text: str, level: int):
        p = d.add_paragraph(text)
        p._p.get_or_add_pPr().append(etree.fromstring(
            f'<w:numPr xmlns:w="{w}"><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))

    d.add_paragraph(TITLE)
    numbered("为了规范示例管理，制定本条例。", 0)
    numbered("有下列情形之一的，依法处理：", 0)
    numbered("未按期支付；", 1)
    numbered("拒绝验收。", 1)
    numbered("本条例自2025年1月1日起施行。", 0)
    d.add_paragraph("第四条 申请应当提交下列材料：")
    for x in ("申请书；", "证明文件。"):
        d.add_paragraph(x, style="List Number")
    d.save(tmp_path / "reg.docx")

    reg = corpus.parse(read_document(tmp_path / "reg.docx"))
    assert [a.number for a in reg.articles] == [1, 2, 3, 4] and not reg.warnings
    assert reg.article(2).text == "有下列情形之一的，依法处理：\n（一）未按期支付；\n（二）拒绝验收。"
    assert reg.article(3).text == "本条例自2025年1月1日起施行。"
    assert reg.article(4).text == "申请应当提交下列材料：\n1.申请书；\n2.证明文件。"


# --- PDF ---------------------------------------------------------------------------------------------

def source_html() -> str:
    body = []
    for n, paras in ARTICLES.items():
        if n in CHAPTERS:
            body.append(f"<h2>{CHAPTERS[n]}</h2>")
        for i, para in enumerate(paras):
            for k, line in enumerate(para.split("\n")):
                head = f"第{NUMERALS[n]}条\u3000" if i == k == 0 else ""
                body.append(f"<p>{html.escape(head + line)}</p>")
    # 20em a line, paragraphs indented by two characters and justified, as official texts are printed
    style = ("body{font:12pt/1.5 'Noto Serif CJK SC';width:20em;margin:0}"
             "p{margin:0;text-indent:2em;text-align:justify} h1,h2,.c{font:inherit;text-align:center;margin:0}")
    return (f"<html><head><meta charset='utf-8'><style>{style}</style></head><body>"
            f"<h1>{TITLE}</h1><p class='c' style='text-indent:0'>{ADOPTION}</p>{''.join(body)}</body></html>")


@pytest.fixture(scope="module")
def browser_pdf(tmp_path_factory) -> Path:
    """The regulation above printed to a narrow PDF with the title as running header and page numbers."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is missing: apt-get install chromium (.ci/run does this)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    path = tmp_path_factory.mktemp("pdf") / "reg.pdf"
    small = "font:9px 'Noto Sans CJK SC';width:100%;text-align:center"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        page.set_content(source_html())
        page.pdf(path=str(path), width="110mm", height="120mm", display_header_footer=True,
                 header_template=f"<div style=\"{small}\">{TITLE}</div>",
                 footer_template=f"<div style=\"{small}\">第 <span class='pageNumber'></span> 页 "
                                 "共 <span class='totalPages'></span> 页</div>",
                 margin={"top": "18mm", "bottom": "18mm", "left": "12mm", "right": "12mm"})
        b.close()
    return path


def test_pdf_paragraphs_come_back_whole_without_headers_or_page_numbers(browser_pdf):
    from pypdf import PdfReader

    raw = [page.extract_text() for page in PdfReader(browser_pdf).pages]
    # the layout exercises what the reader must repair (if chromium's layout changes, fix the test)
    assert "⼀" in "".join(raw)  # the font's Kangxi radical one, to be folded back
    raw = [fold_compat_chars(page) for page in raw]
    assert len(raw) >= 3 and all(TITLE in page and "页 共" in page for page in raw)
    lines = [x.strip() for page in raw for x in page.split("\n")]
    assert "第三条\u2003本条例所称企业，指各类主体。" in lines  # ends in 。 mid-paragraph
    assert any(x.startswith("第三条规定") for x in lines)      # a wrapped line that starts like an article

    reg = corpus.parse(read_document(browser_pdf))
    assert (reg.title, reg.adoption) == (TITLE, ADOPTION)
    assert reg.chapters == ("第一章 总则", "第二章 产业发展")
    assert parsed_clauses(reg) == expected_clauses()

    with pytest.raises(FormatError, match=f"has {len(raw)} pages, more than the limit of 2"):
        read_document(browser_pdf, max_pages=2)


@pytest.fixture(scope="module")
def browser_default_pdf(tmp_path_factory) -> Path:
    """The regulation saved from a web page with the browser's own header and footer: the date and the page
    title at the top left, the page's file:/// address and n/N at the bottom, further left than the text."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is missing: apt-get install chromium (.ci/run does this)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    d = tmp_path_factory.mktemp("saved-from-the-web")
    page_file = d / "shi-li-shi-xian-jin-zhi-zao-ye-cu-jin-tiao-li-2024-quan-wen.html"
    page_file.write_text(source_html().replace("<head>", f"<head><title>{TITLE}</title>"), encoding="utf-8")
    path = d / "reg.pdf"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        page.goto(page_file.as_uri())
        page.pdf(path=str(path), width="110mm", height="120mm", display_header_footer=True,
                 margin={"top": "15mm", "bottom": "15mm", "left": "15mm", "right": "12mm"})
        b.close()
    return path


def test_a_pdf_with_the_browsers_own_header_and_footer(browser_default_pdf):
    from pypdf import PdfReader

    raw = [page.extract_text() for page in PdfReader(browser_default_pdf).pages]
    # what the reader must remove (the font draws fi as one glyph: the text layer has ﬁle:///)
    assert len(raw) >= 3 and all("file:///" in fold_compat_chars(page) for page in raw)
    reg = corpus.parse(read_document(browser_default_pdf))
    assert (reg.title, reg.adoption) == (TITLE, ADOPTION)
    assert parsed_clauses(reg) == expected_clauses() and not reg.warnings


def test_page_numbers_and_running_headers_are_removed_once_per_page():
    body = ["第一条 促进发展。", "县级以上人民政府负责", "组织实施。", "第二条 鼓励创新。", "第三条 加强保障。",
            "第四条 优化服务。", "第五条 强化监督。", "第六条 依法追责。", "第七条 统筹协调。", "第八条 施行日期。"]
    footers = ["- 1 -", "— 2 —", "第3页", "第 4 页 共 5 页", "5/5"]
    pages = [["示例条例", "示例条例", "（通过）"] + body[:2] + [footers[0]]]  # page 1: the header, then the title
    pages += [["示例条例"] + body[2 * i:2 * i + 2] + [footers[i]] for i in range(1, 5)]
    kept = strip_page_furniture([[PdfLine(x, 0) for x in page] for page in pages])
    assert [[x.text for x in page] for page in kept] == [["示例条例", "（通过）"] + body[:2]] + [
        body[2 * i:2 * i + 2] for i in range(1, 5)]
    # a first page without the header: its title, though it reads like the header, stays
    kept = strip_page_furniture([[PdfLine(x, 0) for x in page] for page in [pages[0][1:]] + pages[1:]])
    assert [x.text for x in kept[0]] == ["示例条例", "（通过）"] + body[:2]


def test_a_long_footer_with_a_page_number_and_a_dated_header_are_furniture():
    url = "file:///C:/Users/me/Downloads/standardization-law-full-text.html"
    pages = [[PdfLine("12/3/26, 4:02 PM 中华人民共和国标准化法", 0), PdfLine("中华人民共和国标准化法", 20),
              PdfLine("第一条 为了加强标准化工作，", 18), PdfLine("制定本法。", 16), PdfLine(f"{url} 1/3", 0)]]
    pages += [[PdfLine("12/3/26, 4:02 PM 中华人民共和国标准化法", 0), PdfLine(f"第{n}条 甲乙丙丁戊己庚辛，", 18),
               PdfLine(end, 16), PdfLine(f"{url} {i}/3", 0)] for i, n, end in ((2, "二", "壬癸。"), (3, "三", "子丑。"))]
    kept = strip_page_furniture(pages)
    assert [x.text for page in kept for x in page] == [
        "中华人民共和国标准化法", "第一条 为了加强标准化工作，", "制定本法。", "第二条 甲乙丙丁戊己庚辛，", "壬癸。",
        "第三条 甲乙丙丁戊己庚辛，", "子丑。"]


def test_a_wrapped_chapter_heading_a_wrapped_contents_entry_and_a_semicolon_at_a_line_end():
    # a chapter name wrapped onto a second, centred line stays the heading's; the next section and article
    # are lines of their own
    assert join_pdf_lines([PdfLine("第二十五条 不得参与产品经营活动。", 2), PdfLine("第三章 生产者、销售者的产品质量责任和", 4),
                           PdfLine("义务", 9), PdfLine("第一节 生产者的产品质量责任和义务", 3),
                           PdfLine("第二十六条 生产者应当对其生产的", 2), PdfLine("产品质量负责。", 0)]) == [
        "第二十五条 不得参与产品经营活动。", "第三章 生产者、销售者的产品质量责任和义务", "第一节 生产者的产品质量责任和义务",
        "第二十六条 生产者应当对其生产的产品质量负责。"]
    # a contents entry whose page number wrapped onto a line of its own ends there
    joined = join_pdf_lines([PdfLine("目录", 11), PdfLine("第一章 总则……………2", 0), PdfLine("第二章 标准的制定……………", 0),
                             PdfLine("4", 0), PdfLine("第一章 总则", 9), PdfLine("第一条 为了加强标准化工作，提升", 2),
                             PdfLine("产品和服务质量，制定本法。", 0)])
    assert joined[-1] == "第一条 为了加强标准化工作，提升产品和服务质量，制定本法。"
    # without indentation, a line that wraps right after ； goes on the same paragraph
    assert join_pdf_lines([PdfLine("第五十二条 销售失效、变质的产品的，", 0), PdfLine("处没收违法所得；情节严重的，吊销营业执照；", 0),
                           PdfLine("构成犯罪的，依法追究刑事责任。", 0), PdfLine("第五十三条 伪造产品产地的，责令改正。", 0)]) == [
        "第五十二条 销售失效、变质的产品的，处没收违法所得；情节严重的，吊销营业执照；构成犯罪的，依法追究刑事责任。",
        "第五十三条 伪造产品产地的，责令改正。"]


def test_text_hard_wrapped_at_every_line_is_rejoined_by_its_indentation():
    text = ("示例条例\n　　第一条　为了促进发展，依照有关法律。\n规定，制定本条例。\n　　第二条　县级以上人民政府应当加强\n"
            "领导。\n　　有关部门按照职责做好\n工作。\n")
    reg = corpus.parse(normalize_text(text))
    assert [[c.text for c in a.clauses] for a in reg.articles] == [
        ["为了促进发展，依照有关法律。规定，制定本条例。"], ["县级以上人民政府应当加强领导。", "有关部门按照职责做好工作。"]]


def test_pdf_lines_join_by_indentation_and_punctuation():
    lines = [PdfLine("第一条 本条例所称企业，指各类主体。", 2),   # ends in 。 but the paragraph goes on
             PdfLine("企业应当依法经营，依照本条例", 0),
             PdfLine("第三条规定报送信息。", 0),                 # not an article: the sentence is unfinished
             PdfLine("县级以上人民政府负责实施。", 2),           # indented: a new paragraph
             PdfLine("第二条 本条例自公布之日起施行。", 2)]
    assert join_pdf_lines(lines) == ["第一条 本条例所称企业，指各类主体。企业应当依法经营，依照本条例第三条规定报送信息。",
                                     "县级以上人民政府负责实施。", "第二条 本条例自公布之日起施行。"]


# --- text --------------------------------------------------------------------------------------------

def test_angle_brackets_and_ligatures_of_a_pdf_text_layer_are_folded():
    assert fold_compat_chars("《关于修改\u2329中华人民共和国产品质量法\u232a的决定》\ufb01") == "《关于修改〈中华人民共和国产品质量法〉的决定》fi"


def test_kangxi_radicals_are_folded_and_full_width_punctuation_kept(tmp_path):
    (tmp_path / "reg.txt").write_text("第⼀条　⼈⺠政府（以下简称“政府”）：⽇常⼯作；\r\n", encoding="utf-8")
    assert read_document(tmp_path / "reg.txt") == "第一条 人民政府（以下简称“政府”）：日常工作；\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_text_in_utf8_or_gb18030_is_read(tmp_path, encoding):
    source = f"{TITLE}\n第一章　总　　则\n第一条　为了促进发展，制定本条例。\n"
    (tmp_path / "reg.txt").write_bytes(source.encode(encoding))
    assert read_document(tmp_path / "reg.txt") == f"{TITLE}\n第一章 总则\n第一条 为了促进发展，制定本条例。\n"


@pytest.mark.parametrize("raw, tidy", [
    ("附　　则", "附则"), ("法 律 责 任", "法律责任"), ("第一编　总　　则", "第一编 总则"),
    ("第二章　自然人………………3", "第二章 自然人"), ("第三章 附则....12", "第三章 附则"),
    ("附则规定如下。", "附则规定如下。"),
])
def test_unnumbered_headings_parts_and_dot_leaders_are_tidied(raw, tidy):
    assert tidy_line(raw) == tidy


def test_a_page_number_on_its_own_line_is_dropped_in_any_format():
    text = "条例\n第一条 为了。\n— 2 —\n第二条 本条例\n- 3 -\n自公布之日起施行。\n第 4 页\n"
    assert normalize_text(text) == "条例\n第一条 为了。\n第二条 本条例\n自公布之日起施行。\n"


def test_a_running_header_beside_page_numbers_in_plain_text_is_dropped_and_the_title_kept():
    """A PDF's text copied out as .txt: the title repeated as a header at the top of every page ended up as a
    paragraph of its own (第六条第二款 「中华人民共和国电子签名法」)."""
    text = ("中华人民共和国电子签名法\n第一条 为了规范电子签名行为，制定本法。\n第二条 本法所称电子签名，\n是指数据。\n"
            "- 1 -\n中华人民共和国电子签名法\n第三条 民事活动中的合同，\n当事人可以约定使用电子签名。\n"
            "- 2 -\n中华人民共和国电子签名法\n第四条 能够有形地表现所载内容。\n")
    out = normalize_text(text)
    assert out.count("中华人民共和国电子签名法") == 1 and out.startswith("中华人民共和国电子签名法\n第一条")
    reg = corpus.parse(out)
    assert [a.number for a in reg.articles] == [1, 2, 3, 4] and all(len(a.clauses) == 1 for a in reg.articles)
    assert reg.article(2).clauses[0].text == "本法所称电子签名，是指数据。"
    # a line repeated away from page numbers is text, not furniture
    assert normalize_text("条例\n第一条 甲。\n第二条 乙。\n第三条 丙。\n- 1 -\n第四条 丁。\n第五条 戊。\n") \
        == "条例\n第一条 甲。\n第二条 乙。\n第三条 丙。\n第四条 丁。\n第五条 戊。\n"


def test_a_chapter_list_without_a_contents_line_is_kept():
    text = "条例\n第一章 总则\n第二章 附则\n第一章 总则\n第一条 为了。\n"
    assert normalize_text(text) == text


# --- refusals ----------------------------------------------------------------------------------------

def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A docx-like zip with a member that unpacks to 210 MiB of zeros from ~200 KiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        with z.open("word/media/image1.png", "w", force_zip64=True) as f:
            for _ in range(210):
                f.write(bytes(2**20))
    return out.getvalue()


def blank_pdf(password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    if password:
        w.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def image_pdf() -> bytes:
    """A 'scanned' page: one image, no text layer."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (400, 560), 255)
    ImageDraw.Draw(img).rectangle((40, 40, 360, 80), fill=0)
    out = io.BytesIO()
    img.save(out, "PDF")
    return out.getvalue()


@pytest.mark.parametrize("make, problem", [
    (lambda: random.Random(0).randbytes(4096), "not UTF-8 or GB18030 text|not text"),
    (lambda: "第一条　为了促进发展，制定本条例。".encode() * 20 + b"\xff", "UTF-8 text with invalid bytes"),
    (lambda: zip_bytes({"readme.txt": b"hello"}), "not a Word .docx"),
    (lambda: zip_bytes({"word/document.xml": b"<w/>", "../evil.txt": b"x"}), "unsafe path"),
    (zip_bomb, r"more than 100:1\); refusing a possible zip bomb"),
    (lambda: b"%PDF-1.7\n" + random.Random(1).randbytes(2048), "damaged PDF"),
    (lambda: blank_pdf(password="secret"), "encrypted"),
    (image_pdf, "no text layer"),
    (lambda: b"\x89PNG\r\n\x1a\n" + bytes(64), "PNG image"),
], ids=["binary", "damaged-utf8", "zip", "zip-slip", "zip-bomb", "corrupt-pdf", "encrypted-pdf", "scanned-pdf", "png"])
def test_unreadable_inputs_are_refused_with_the_reason(tmp_path, make, problem):
    path = tmp_path / "upload.txt"  # the name says text: only the content counts
    path.write_bytes(make())
    with pytest.raises(FormatError, match=problem):
        read_document(path)


def test_a_docx_that_unpacks_past_the_limit_is_refused(tmp_path, monkeypatch):
    from chatbot import formats

    monkeypatch.setattr(formats, "MAX_UNZIPPED", 4000)
    (tmp_path / "big.docx").write_bytes(zip_bytes({"word/document.xml": random.Random(2).randbytes(5000)}))
    with pytest.raises(FormatError, match="would unpack to 5,000 bytes, over the limit of 4,000; refusing a possible"):
        read_document(tmp_path / "big.docx")


def test_a_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_document(tmp_path / "nowhere.pdf")
