import pytest

from chatbot.tokens import expand_query, tokenize


@pytest.mark.parametrize("term", ["链长制", "首席质量官", "亩产效益", "产教融合", "峰谷分时电价"])
def test_dictionary_terms_stay_whole(term):
    assert term in tokenize(f"请问{term}是怎么规定的？")
    assert term not in tokenize(f"请问{term}是怎么规定的？", user_dict=False)


def test_stop_words_and_punctuation_removed():
    toks = tokenize("请问，工厂做技术改造的话，政府能给什么支持？！")
    assert "技术改造" in toks and "工厂" in toks and "支持" in toks
    for gone in ("请问", "的", "什么", "，", "？", "！", "能"):
        assert gone not in toks


def test_full_width_and_case_are_normalized():
    assert tokenize("ＡＢＣ公司") == tokenize("abc公司")


def test_empty_and_punctuation_only():
    assert tokenize("") == []
    assert tokenize("？？！。") == []


def test_query_expansion_maps_everyday_words_to_the_regulation():
    assert "技术改造" in expand_query("技改有补贴吗")
    assert {"信息化", "主管部门"} <= set(expand_query("工信局管什么"))
    assert expand_query("完全无关的一句话") == []
