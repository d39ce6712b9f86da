import re
from pathlib import Path

import pytest

from chatbot import corpus
from chatbot.corpus import CorpusError, clean_line, parse

# paragraphs (款) per article, counted by hand from the official text
PARAGRAPHS = {1: 1, 2: 1, 3: 1, 4: 4, 5: 2, 6: 3, 7: 2, 8: 3, 9: 3, 10: 2, 11: 2, 12: 2, 13: 1, 14: 2, 15: 2,
              16: 1, 17: 1, 18: 1, 19: 1, 20: 2, 21: 3, 22: 3, 23: 2, 24: 1, 25: 1, 26: 1}


def test_title_adoption_and_26_articles(regulation):
    assert regulation.title == "江西省先进制造业促进条例"
    assert regulation.adoption == "（2024年3月26日江西省第十四届人民代表大会常务委员会第七次会议通过）"
    assert [a.number for a in regulation.articles] == list(range(1, 27))


def test_paragraph_counts(regulation):
    assert {a.number: len(a.clauses) for a in regulation.articles} == PARAGRAPHS
    # 48 paragraphs, plus the title and adoption note as the citable 【题注】 clause
    assert len(regulation.clauses) == sum(PARAGRAPHS.values()) + 1 == 49
    assert regulation.clauses[0].label == "题注" and "2024年3月26日" in regulation.clauses[0].text


def test_items_only_in_article_5_paragraph_2(regulation):
    with_items = {c.label: c.items for c in regulation.clauses if c.items}
    assert with_items == {"第五条第二款": (1, 2, 3, 4)}
    lines = regulation.resolve("第五条第二款").text.split("\n")
    assert lines[0] == "先进制造业发展规划和实施方案应当符合下列要求："
    assert [line[:3] for line in lines[1:]] == ["（一）", "（二）", "（三）", "（四）"]


def test_no_broken_sentence_in_any_paragraph(regulation):
    for c in (c for a in regulation.articles for c in a.clauses):
        assert c.text.endswith("。"), c.label
        for line in c.text.split("\n"):
            assert line[-1] in "。；：", (c.label, line)
        assert "\n\n" not in c.text


def test_page_breaks_are_rejoined(regulation):
    assert "负责本行政区域内先进制造业促进的指导" in regulation.resolve("第四条第二款").text
    assert "通过服务指导、试点示范、政策支持等方式" in regulation.resolve("第十一条第一款").text
    assert "商标国际注册" in regulation.resolve("第十四条第二款").text
    assert "在土地利用年度计划中安排先进制造业项目用地指标" in regulation.resolve("第十八条").text


def test_no_markup_or_half_width_punctuation_left(regulation):
    for c in regulation.clauses:
        assert "**" not in c.text and "#" not in c.text and not re.search(r"^\s*-", c.text, re.M)
        assert not re.search(r"[\u4e00-\u9fff][,;:()]|[,;:()][\u4e00-\u9fff]", c.text), c.label
    assert "组建区域产教融合共同体，完善项目制、学徒制" in regulation.resolve("第二十二条第一款").text
    assert regulation.resolve("第二十六条").text == "本条例自2024年6月1日起施行。"


def test_labels_and_ids(regulation):
    labels = [c.label for c in regulation.clauses]
    assert labels[:7] == ["题注", "第一条", "第二条", "第三条", "第四条第一款", "第四条第二款", "第四条第三款"]
    assert regulation.resolve("第十条第二款").id == "a10p2"
    assert len(set(c.id for c in regulation.clauses)) == 49


@pytest.mark.parametrize("label,expect", [
    ("第十条第一款", "a10p1"), ("【第十三条】", "a13p1"), ("第五条第二款第三项", "a5p2"),
    ("第三十条", None), ("第五条第三款", None), ("第五条第一款第一项", None), ("第九十九条", None), ("十条", None),
])
def test_resolve(regulation, label, expect):
    got = regulation.resolve(label)
    assert (got.id if got is not None else None) == expect


def test_resolve_multi_paragraph_article_gives_article(regulation):
    assert regulation.resolve("第十条").number == 10


@pytest.mark.parametrize("raw,clean", [
    ("**第九条** 县级以上", "第九条 县级以上"),
    ("- （一）与本级规划相衔接；", "（一）与本级规划相衔接；"),
    ("组建共同体,完善模式", "组建共同体，完善模式"),
    ("(2024 年 3 月 26 日通过)", "（2024年3月26日通过）"),
    ("# 江西省先进制造业促进条例", "江西省先进制造业促进条例"),
    ("第一条【立法目的】为了示例，制定本条例。", "第一条 （立法目的）为了示例，制定本条例。"),
])
def test_clean_line(raw, clean):
    assert clean_line(raw) == clean


def test_second_regulation_with_chapters_sections_items_and_page_break():
    reg = corpus.load(Path(__file__).parent / "data" / "sample_regulation.md")
    assert reg.title == "示例市数字经济促进办法"
    assert reg.adoption == "（2023年9月1日示例市人民代表大会常务委员会第五次会议通过）"
    assert [a.number for a in reg.articles] == [1, 2, 3, 4, 5]
    assert reg.chapters == ("第一章 总则", "第二章 数字基础设施", "第三章 附则")
    assert reg.article(3).chapter == "第二章 数字基础设施" and reg.article(5).chapter == "第三章 附则"
    a3 = reg.article(3)
    assert [c.label for c in a3.clauses] == ["第三条第一款", "第三条第二款"]
    assert a3.clauses[0].items == (1, 2, 3)
    assert a3.clauses[1].text == "市人民政府有关部门应当按照职责做好相关保障工作。"
    assert reg.article(1).clauses[0].text == "为了促进数字经济发展，制定本办法。"
    assert reg.article(5).clauses[0].label == "第五条"


def test_a_code_with_parts_an_unnumbered_heading_page_numbers_and_a_dotted_contents():
    """A code's layout (第一编 总则 over its chapters), 附　　则 without a number, a 目录 with dot leaders and
    page numbers, 第一百零一条, a page number 「— 2 —」 between two articles and a sentence broken across
    lines, as a copied PDF text gives them: each heading starts a chapter, nothing leaks into an article."""
    from chatbot.formats import read_document

    reg = parse(read_document(Path(__file__).parent / "data" / "code_with_parts.txt"), id="test", primary=False)
    assert reg.title == "中华人民共和国测试法" and reg.adopted == "2020-05-28" and reg.effective == "2021-01-01"
    assert reg.chapters == ("第一编 总则", "第一编 总则 第一章 基本规定", "第一编 总则 第二章 自然人",
                            "第二编 分则", "附则")
    assert reg.sections == ("第一编 总则 第二章 自然人/第一节 民事权利能力",)
    assert [a.number for a in reg.articles] == [1, 2, 3, 4, 100, 101, 102]
    assert reg.article(1).clauses[0].text.endswith("维护社会和经济秩序，根据宪法，制定本法。")
    assert reg.article(3).clauses[0].text == "自然人从出生时起到死亡时止，具有民事权利能力。"
    assert reg.article(4).clauses[0].text == "自然人的民事权利能力一律平等。"
    assert reg.article(100).chapter == "第二编 分则" and len(reg.article(100).clauses) == 2
    assert reg.article(101).clauses[0].text == "第一百零一条的内容。"
    assert reg.article(102).chapter == "附则"
    # only the real gap is reported: no paragraph ends mid-sentence
    assert reg.warnings == ("articles missing before 第一百条: 第五条、第六条、第七条、第八条、第九条…",)


def test_a_codes_subparts_are_headings_not_article_text():
    """第一分编 通则 (a part's division, as in the Civil Code) heads the chapters under it; before, it was
    glued to the last article of the part before as a paragraph ending mid-sentence."""
    text = ("中华人民共和国测试法典\n第一编　总　　则\n第一章　基本规定\n第一条　为了测试，制定本法。\n"
            "第二编　物　　权\n第一分编　通　　则\n第一章　一般规定\n第二百零五条　本编调整物的归属。\n"
            "第二分编　所有权\n第二百四十条　所有权人依法享有权利。\n")
    reg = parse(text, id="test", primary=False)
    assert reg.chapters == ("第一编 总则", "第一编 总则 第一章 基本规定", "第二编 物权", "第二编 物权 第一分编 通则",
                            "第二编 物权 第一分编 通则 第一章 一般规定", "第二编 物权 第二分编 所有权")
    assert reg.article(1).clauses[0].text == "为了测试，制定本法。"
    assert reg.article(240).chapter == "第二编 物权 第二分编 所有权"
    assert not any("mid-sentence" in w for w in reg.warnings)


def test_text_without_articles_is_an_error():
    with pytest.raises(CorpusError, match="no articles"):
        parse("# 标题\n\n这里没有条文。\n")


def test_numbering_gaps_repeats_and_cut_paragraphs_are_warnings_naming_the_articles():
    reg = parse("示例条例\n（2023年1月1日通过）\n第一条 甲。\n第三条 乙。\n第三条 丙。\n第四条 丁，戊\n")
    assert [a.number for a in reg.articles] == [1, 3, 3, 4]
    assert reg.warnings == ("articles missing before 第三条: 第二条", "第三条 appears more than once",
                            "第四条 ends mid-sentence: …丁，戊")
    # the repeated number keeps its own clause id, and lookup finds the first
    assert len({c.id for c in reg.clauses}) == len(reg.clauses)
    assert reg.article(3).text == "乙。"


def test_metadata_from_the_notes_under_the_title():
    text = ("# 中华人民共和国示例法\n\n1993年2月22日 第七届全国人民代表大会常务委员会第三十次会议通过\n\n"
            "2018年12月29日 第十三届全国人民代表大会常务委员会第七次会议第一次修正\n\n"
            "## 第一章　总　　则\n\n### 第一节 一般规定\n\n第一条　为了示例，制定本法。\n\n"
            "第二条 本法自1993年9月1日起施行。\n")
    reg = parse(text, id="example-law", primary=False)
    assert (reg.title, reg.short, reg.issuer) == ("中华人民共和国示例法", "示例法", "全国人民代表大会常务委员会")
    assert (reg.adopted, reg.amended, reg.version, reg.effective) == ("1993-02-22", ("2018-12-29",),
                                                                      "2018-12-29", "1993-09-01")
    assert reg.chapters == ("第一章 总则",) and reg.sections == ("第一章 总则/第一节 一般规定",)
    first = reg.clauses[1]
    # a law other than the primary names itself in its labels and ids
    assert (first.label, first.id, first.regulation, first.section) == (
        "示例法第一条", "example-law-a1p1", "example-law", "第一节 一般规定")
    assert reg.preamble.label == "示例法题注" and reg.resolve("示例法第二条").text == "本法自1993年9月1日起施行。"


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError, match="copy it into corpus/"):
        corpus.load(tmp_path / "nope.md")


def test_non_utf8_file_is_reported(tmp_path):
    p = tmp_path / "gbk.md"
    p.write_bytes("第一条 测试。".encode("gbk"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        corpus.load(p)


def test_the_title_after_an_announcement_signed_and_dated():
    """A provincial download opens with the standing committee's 公告: number, the sentence announcing the
    law, the committee's name and the date on lines of their own. None of it is the title or a note."""
    text = ("江西省人民代表大会常务委员会公告\n（第15号）\n《江西省示例条例》已由江西省第十四届人民代表大会常务委员会"
            "第八次会议于2024年5月30日通过，现予公布，自2024年8月1日起施行。\n江西省人民代表大会常务委员会\n"
            "2024年5月30日\n江西省示例条例\n（2024年5月30日江西省第十四届人民代表大会常务委员会第八次会议通过）\n"
            "第一章　总　　则\n第一条　为了示例，制定本条例。\n第二条　本条例自2024年8月1日起施行。\n")
    reg = parse(text, id="example", primary=False)
    assert reg.title == "江西省示例条例" and reg.short == "江西省示例条例"
    assert reg.adoption == "（2024年5月30日江西省第十四届人民代表大会常务委员会第八次会议通过）"
    assert (reg.adopted, reg.effective, reg.issuer) == ("2024-05-30", "2024-08-01", "江西省人民代表大会常务委员会")
    # a title broken after its place, as a PDF copy gives it, is one title
    for head, law in (("中华人民共和国", "示例促进法"), ("江西省", "示例条例")):
        reg = parse(f"{head}\n{law}\n（2017年9月1日第十二届全国人民代表大会常务委员会第二十九次会议通过）\n"
                    "第一条 为了示例，制定本法。\n")
        assert reg.title == head + law and reg.adopted == "2017-09-01"


def test_a_government_rule_signed_and_dated_with_an_annex():
    """A government's 办法 ends with the issuer and the date signed under the last article, then 附件: none
    of it belongs to the last article; the annex is reported."""
    text = ("南昌市示例管理办法\n（2024年1月5日南昌市人民政府第十次常务会议通过）\n"
            "第一条 为了示例，制定本办法。\n第二条 本办法自2024年3月1日起施行。\n"
            "南昌市人民政府\n2024年1月5日\n附件1：示例申请表\n申请单位\n联系电话\n")
    reg = parse(text, id="example", primary=False)
    assert [c.text for c in reg.article(2).clauses] == ["本办法自2024年3月1日起施行。"]
    assert reg.warnings == ("the text from 「附件1：示例申请表」 on is an annex, not an article, and is not indexed",)
    assert reg.effective == "2024-03-01" and reg.issuer == "南昌市人民政府"


def test_items_numbered_with_arabic_digits_belong_to_the_paragraph_introducing_them():
    text = ("示例办法\n第一条 有下列情形之一的，依法处理：\n1．甲；\n2．乙。\n第二条 投资额应当达到1.5亿元。\n"
            "第三条 本办法自2024年1月1日起施行。\n")
    reg = parse(text)
    assert [(c.text, c.items) for c in reg.article(1).clauses] == [("有下列情形之一的，依法处理：\n1．甲；\n2．乙。", (1, 2))]
    assert reg.article(2).clauses[0].text == "投资额应当达到1.5亿元。"


def test_the_title_after_a_decree_and_notes_over_several_lines():
    text = ("中华人民共和国主席令\n第七十七号\n《中华人民共和国示例法》已由全国人民代表大会常务委员会通过，现予公布。\n"
            "中华人民共和国示例法\n（2002年6月29日第九届全国人民代表大会常务委员会第二十八次会议通过\n"
            "根据2017年9月1日第十二届全国人民代表大会常务委员会第二十九次会议修订）\n"
            "第一条 为了示例，制定本法。\n第二条 本法自2018年1月1日起施行。\n")
    reg = parse(text)
    assert reg.title == "中华人民共和国示例法"
    assert (reg.adopted, reg.amended, reg.effective) == ("2002-06-29", ("2017-09-01",), "2018-01-01")
    assert reg.preamble.text.startswith("中华人民共和国示例法\n（2002年6月29日")


# --- lines wrapped as a PDF viewer or a hard-wrapped download leaves them ---------------------------

def _texts(reg) -> list[tuple[int, list[str]]]:
    return [(a.number, [c.text for c in a.clauses]) for a in reg.articles]


def test_a_wrapped_line_starting_with_an_article_number_is_a_reference_not_an_article():
    reg = parse("某某条例\n第一条 甲，依照本条例\n第二条的规定执行。\n第二条 乙。\n")
    assert _texts(reg) == [(1, ["甲，依照本条例第二条的规定执行。"]), (2, ["乙。"])] and not reg.warnings
    reg = parse("某某条例\n第一条 违反本条例\n第三条规定的，依法处理。\n第二条 乙。\n第三条 丙。\n")
    assert _texts(reg)[0] == (1, ["违反本条例第三条规定的，依法处理。"]) and len(reg.articles) == 3


@pytest.mark.parametrize("text, paragraph", [
    # a line ending like a signature (由国务院) or a title (相关法) inside an article is a sentence cut short
    ("某某条例\n第一条 甲。\n基金的管理办法由国务院\n规定。\n第二条 乙。\n", "基金的管理办法由国务院规定。"),
    ("某某条例\n第一条 甲。\n新闻媒体应当开展对相关法\n律法规政策的宣传。\n第二条 乙。\n", "新闻媒体应当开展对相关法律法规政策的宣传。"),
    # a paragraph never ends with ；
    ("某某条例\n第一条 甲。\n有违法所得的，没收违法所得；\n情节严重的，吊销营业执照。\n第二条 乙。\n",
     "有违法所得的，没收违法所得；情节严重的，吊销营业执照。"),
], ids=["signature-like", "title-like", "semicolon"])
def test_a_line_cut_inside_an_article_is_joined_to_its_paragraph(text, paragraph):
    reg = parse(text)
    assert _texts(reg) == [(1, ["甲。", paragraph]), (2, ["乙。"])] and not reg.warnings


def test_a_signature_after_the_last_article_is_still_no_paragraph():
    reg = parse("某某条例\n第一条 甲。\n第二条 本条例自2024年6月1日起施行。\n江西省人民代表大会常务委员会\n2024年3月26日\n")
    assert _texts(reg)[-1] == (2, ["本条例自2024年6月1日起施行。"])


def test_a_title_on_two_lines_and_a_note_wrapped_over_three():
    reg = parse("中华人民共和国国务院令\n第728号\n保障中小企业\n款项支付条例\n第一条 甲。\n")
    assert reg.title == "保障中小企业款项支付条例"
    reg = parse("中华人民共和国某某法\n（1993年2月22日第七届全国人民代表大会常务委员会第三十次会议通过\n"
                "根据2000年7月8日第九届全国人民代表大会常务委员会第十六次会议\n"
                "《关于修改〈中华人民共和国产品质量法〉的决定》第一次修正）\n第一条 甲。\n")
    assert (reg.title, reg.adopted, reg.amended, reg.version) == ("中华人民共和国某某法", "1993-02-22", ("2000-07-08",),
                                                                  "2000-07-08")
    assert reg.issuer == "全国人民代表大会常务委员会"


def test_an_adoption_note_is_never_the_title():
    reg = parse("（2020年7月1日国务院第99次常务会议通过）\n第一条 甲。\n", title="保障中小企业款项支付条例")
    assert reg.title == "保障中小企业款项支付条例" and reg.adopted == "2020-07-01"
