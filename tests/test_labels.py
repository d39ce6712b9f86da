"""The label grammar, by hand: parsing, formatting, finding labels in text and article references in
questions, and the citation check that depends on it."""

import pytest

from chatbot.citations import check_citations
from chatbot.labels import Label, article_refs, find_labels, format_label, parse_label


@pytest.mark.parametrize("text,label", [
    ("第十条", Label(10)),
    ("第十条第二款", Label(10, 2)),
    ("第五条第二款第三项", Label(5, 2, 3)),
    ("【第１０条】", Label(10)),                      # full-width digits, as models and PDFs write them
    ("[第10条第2款]", Label(10, 2)),
    ("第 二十六 条", Label(26)),
    ("《中华人民共和国中小企业促进法》第十条", Label(10, regulation="中华人民共和国中小企业促进法")),
    ("第十条说了什么", None),
    ("第X条", None),
    ("", None),
])
def test_parse_label(text, label):
    assert parse_label(text) == label


@pytest.mark.parametrize("parts,text", [
    ((10,), "第十条"), ((10, 2), "第十条第二款"), ((5, 2, 3), "第五条第二款第三项"), ((101,), "第一百零一条"),
    ((5, None, 3), "第五条第三项"),
])
def test_format_label_round_trips(parts, text):
    assert format_label(*parts) == text
    assert parse_label(text) == Label(*parts)


def test_label_text_and_full():
    law = Label(10, 2, regulation="标准化法")
    assert law.text == "第十条第二款" and law.full == "《标准化法》第十条第二款"
    assert Label(10).full == "第十条"


def test_find_labels_in_running_text():
    found = [(m.group(0), label) for m, label in find_labels("见第十条和第１９条第二款，以及《标准化法》第3条。")]
    assert found == [("第十条", Label(10)), ("第１９条第二款", Label(19, 2)),
                     ("《标准化法》第3条", Label(3, regulation="标准化法"))]


@pytest.mark.parametrize("question,refs", [
    ("第十条第二款和第19条讲什么", [Label(10, 2), Label(19)]),
    ("十八条说了什么", [Label(18)]),
    ("第１８条", [Label(18)]),
    ("哪一条规定了用地", []),
    ("两条规定有什么不同", []),
    ("第十条和第十条", [Label(10)]),
])
def test_article_refs(question, refs):
    assert article_refs(question) == refs


def test_resolve_uses_the_grammar(regulation):
    assert regulation.resolve("第１０条第二款").id == "a10p2"
    assert regulation.resolve("《江西省先进制造业促进条例》第十八条").id == "a18p1"
    assert regulation.resolve("《中华人民共和国公司法》第十条") is None  # another law is not this regulation


def test_full_width_model_citation_is_resolved_not_deleted(regulation):
    """A model writing 【第１０条第一款】 cites 10(1): it must be kept, in canonical form, not silently lost."""
    given = [c for c in regulation.clauses if c.article == 10]
    c = check_citations("增资扩产项目可以实行同等优惠政策。【第１０条第二款】", given, regulation)
    assert [x.id for x in c.cited] == ["a10p2"] and c.removed == [] and c.added == []
    assert c.text == "增资扩产项目可以实行同等优惠政策。【第十条第二款】"
    # a full-width label for a clause that was not given is removed and counted, never kept
    c = check_citations("财政贴息。【第１２条】", given, regulation)
    assert c.removed == ["第十二条"] and c.cited == [] and c.text == "财政贴息。"
