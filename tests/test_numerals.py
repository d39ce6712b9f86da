import pytest

from chatbot.numerals import to_chinese, to_int


@pytest.mark.parametrize("text,value", [
    ("一", 1), ("十", 10), ("十八", 18), ("二十", 20), ("二十六", 26), ("一百", 100), ("一百零一", 101),
    ("一百一十", 110), ("两百", 200), ("一千零一", 1001), ("10", 10), ("２６", 26),
])
def test_to_int(text, value):
    assert to_int(text) == value


@pytest.mark.parametrize("value,text", [(1, "一"), (10, "十"), (18, "十八"), (26, "二十六"), (101, "一百零一"),
                                        (110, "一百一十"), (1010, "一千零一十")])
def test_to_chinese(value, text):
    assert to_chinese(value) == text


def test_round_trip_up_to_a_thousand():
    for n in range(1, 1000):
        assert to_int(to_chinese(n)) == n


@pytest.mark.parametrize("bad", ["", "条", "十十", "一二", "abc"])
def test_rejects_non_numerals(bad):
    with pytest.raises(ValueError):
        to_int(bad)


def test_huge_numbers_stay_digits():
    assert to_chinese(12345) == "12345"
    with pytest.raises(ValueError):
        to_chinese(-1)
