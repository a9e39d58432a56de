"""Amounts in Chinese capital numerals (大写), as written on a contract or a cheque.

The rules are those of the People's Bank of China's payment and settlement rules (支付结算办法):
壹拾 (never a bare 拾); one 零 for a run of zeros between two non-zero digits; a zero run
that ends a 万 or 元 group right before a non-zero 仟 or 角 may go without 零 (we leave it
out); 整 after 元 when there are no 角 or 分, none after 角 or 分. Amounts from 0 up to
9999万亿 (10^16 yuan), to the fen.
"""

from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
WAN = 10_000
YI = 100_000_000
LIMIT = 10**16  # 壹亿亿 and beyond are not written on contracts


def _below_wan(number: int) -> str:
    """1..9999: digits with their units, one 零 for each run of inner zeros."""
    digits = [int(d) for d in f"{number:04d}"]
    text, pending_zero, started = [], False, False
    for position, digit in enumerate(digits):
        unit = UNITS[3 - position]
        if digit == 0:
            pending_zero = started
            continue
        if pending_zero:
            text.append("零")
        text.append(DIGITS[digit] + unit)
        started, pending_zero = True, False
    return "".join(text)


def _integer(number: int) -> str:
    """1..LIMIT-1 in words: 亿 and 万 groups, 零 where a group's top places are zero."""
    for size, name in ((YI, "亿"), (WAN, "万")):
        if number >= size:
            high, low = divmod(number, size)
            if low == 0:
                return _integer(high) + name
            gap = "零" if low < size // 10 else ""
            return _integer(high) + name + gap + _integer(low)
    return _below_wan(number)


def capital_yuan(amount: Decimal) -> str:
    """The amount in capital numerals, e.g. Decimal("2100500") -> 人民币贰佰壹拾万零伍佰元整."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"not a finite Decimal amount: {amount!r}")
    fen_total = amount * 100
    if fen_total != fen_total.to_integral_value():
        raise ValueError(f"{amount} has fractions of a fen")
    if amount < 0 or amount >= LIMIT:
        raise ValueError(f"{amount} is outside 0 .. {LIMIT} yuan")
    yuan, cents = divmod(int(fen_total), 100)
    jiao, fen = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "人民币零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if cents == 0:
        return f"人民币{text}整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"  # 壹元零伍分: the 角 place is zero between 元 and 分
    if fen:
        text += DIGITS[fen] + "分"
    return "人民币" + text
