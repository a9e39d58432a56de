"""Capital numerals (大写) of amounts: zeros inside, whole yuan, jiao and fen, 万 and 亿 groups."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.paperwork.numerals import DIGITS, capital_yuan

CASES = {
    "0": "人民币零元整",
    "0.00": "人民币零元整",
    "1": "人民币壹元整",
    "10": "人民币壹拾元整",
    "15": "人民币壹拾伍元整",
    "100": "人民币壹佰元整",
    "101": "人民币壹佰零壹元整",
    "110": "人民币壹佰壹拾元整",
    "1001": "人民币壹仟零壹元整",
    "1010": "人民币壹仟零壹拾元整",
    "1100": "人民币壹仟壹佰元整",
    "10000": "人民币壹万元整",
    "10001": "人民币壹万零壹元整",
    "10010": "人民币壹万零壹拾元整",
    "10100": "人民币壹万零壹佰元整",
    "11000": "人民币壹万壹仟元整",
    "101000": "人民币壹拾万壹仟元整",
    "100500": "人民币壹拾万零伍佰元整",
    "2100500": "人民币贰佰壹拾万零伍佰元整",
    "2010000": "人民币贰佰零壹万元整",
    "10000500": "人民币壹仟万零伍佰元整",
    "100000000": "人民币壹亿元整",
    "100000001": "人民币壹亿零壹元整",
    "100010000": "人民币壹亿零壹万元整",
    "100001000": "人民币壹亿零壹仟元整",
    "110000000": "人民币壹亿壹仟万元整",
    "101050000": "人民币壹亿零壹佰零伍万元整",
    "1000000005": "人民币壹拾亿零伍元整",
    "1234567890": "人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元整",
    "1100000000000": "人民币壹万壹仟亿元整",
    "9999999999999999.99": "人民币玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    # jiao and fen
    "0.05": "人民币伍分",
    "0.50": "人民币伍角",
    "0.56": "人民币伍角陆分",
    "1.05": "人民币壹元零伍分",
    "1.50": "人民币壹元伍角",
    "1.5": "人民币壹元伍角",
    "10.01": "人民币壹拾元零壹分",
    "1680.32": "人民币壹仟陆佰捌拾元叁角贰分",
    "100000.10": "人民币壹拾万元壹角",
    "2100500.07": "人民币贰佰壹拾万零伍佰元零柒分",
}


@pytest.mark.parametrize(("amount", "words"), CASES.items())
def test_capital_numerals(amount, words):
    assert capital_yuan(Decimal(amount)) == words


@pytest.mark.parametrize("amount", ["-1", "0.001", "10000000000000000", "NaN", "Infinity"])
def test_refused_amounts(amount):
    with pytest.raises(ValueError):
        capital_yuan(Decimal(amount))


def test_only_decimals():
    with pytest.raises(ValueError):
        capital_yuan(1.5)  # type: ignore[arg-type]


def _read_back(words: str) -> Decimal:
    """Parse capital numerals back into an amount (a second, independent reading)."""
    body = words.removeprefix("人民币").removesuffix("整")
    values = {c: i for i, c in enumerate(DIGITS)}
    small = {"拾": 10, "佰": 100, "仟": 1000}
    total, section, group, digit = Decimal(0), 0, 0, 0
    for char in body:
        if char in values:
            digit = values[char]
        elif char in small:
            group += digit * small[char]
            digit = 0
        elif char == "万":
            section += (group + digit) * 10_000
            group = digit = 0
        elif char == "亿":
            total += (section + group + digit) * 100_000_000
            section = group = digit = 0
        elif char == "元":
            total += section + group + digit
            section = group = digit = 0
        elif char == "角":
            total += Decimal(digit) / 10
            digit = 0
        elif char == "分":
            total += Decimal(digit) / 100
            digit = 0
    return total


@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_reads_back_to_the_same_amount(fen):
    amount = Decimal(fen) / 100
    words = capital_yuan(amount)
    assert _read_back(words) == amount
    assert "零零" not in words and not words.endswith("零")
    assert ("整" in words) == (fen % 100 == 0)
