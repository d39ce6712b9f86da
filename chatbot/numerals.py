"""Chinese numerals <-> integers, for article (条), paragraph (款) and item (项) numbers.

Only the forms that appear in statute numbering are handled: 零 一 二 ... 九, 十 百 千 and 两,
plus ASCII or full-width digits. Display labels are built with `to_chinese`.

    to_int("二十六") -> 26      to_int("一百零一") -> 101      to_int("十") -> 10
    to_chinese(26) -> "二十六"  to_chinese(101) -> "一百零一"  to_chinese(10) -> "十"
"""

from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)
_CN = "零一二三四五六七八九"


def to_int(text: str) -> int:
    """Convert a Chinese or Arabic numeral to an int; raise ValueError on anything else.

    to_int("十八") -> 18, to_int("18") -> 18, to_int("２０") -> 20, to_int("三百") -> 300
    """
    s = text.strip()
    if not s:
        raise ValueError("empty numeral")
    ascii_digits = s.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if ascii_digits.isdigit():
        return int(ascii_digits)
    total, digit, seen_unit = 0, None, 1_000_000
    for ch in s:
        if ch in DIGITS:
            if digit is not None and digit != 0:
                raise ValueError(f"not a numeral: {text!r}")
            digit = DIGITS[ch]
        elif ch in UNITS:
            unit = UNITS[ch]
            if unit >= seen_unit:
                raise ValueError(f"not a numeral: {text!r}")
            seen_unit = unit
            # a bare leading 十 means 一十 (十八 = 18)
            total += (1 if digit is None else digit) * unit
            digit = None
        else:
            raise ValueError(f"not a numeral: {text!r}")
    if digit:
        total += digit
    return total


def to_chinese(n: int) -> str:
    """Convert n >= 0 to the Chinese numeral used in statute labels (digits from 10000 on)."""
    if n < 0:
        raise ValueError(f"not a statute number: {n}")
    if n >= 10000:
        return str(n)  # no statute has that many parts; a question may still name one (第12345条)
    if n == 0:
        return "零"
    parts: list[str] = []
    pending_zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, unit)
        if d:
            if pending_zero:
                parts.append("零")
            parts.append(_CN[d] + name)
            pending_zero = False
        elif parts:
            pending_zero = True
        if n == 0:
            break
    out = "".join(parts)
    # 一十 at the start is written 十 (十, 十八), but kept inside larger numbers (一百一十)
    return out[1:] if out.startswith("一十") else out
