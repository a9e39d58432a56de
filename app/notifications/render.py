# ruff: noqa: RUF001, E501 -- Chinese punctuation is the text itself; one line per sentence
"""The notifications' words in zh-CN and en: a subject and a body per event type, filled
from the notification's payload (plain data: paddles, amounts, dates, never identities)."""

from typing import Any

EVENT_TYPES = (
    "registration.approved", "registration.rejected", "registration.closing", "lot.opening", "bid.outbid",
    "auction.won", "auction.lost", "settlement.due", "settlement.reminder", "settlement.paid",
    "settlement.defaulted", "settlement.second_chance", "deposit.released",
)
LANGUAGES = ("zh", "en")

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "registration.approved": {
        "en": ("Registration approved: {title}", "You are qualified to bid on {title} with paddle {paddle}."),
        "zh": ("竞买登记已通过：{title}", "您已获得{title}的竞买资格，号牌为{paddle}。"),
    },
    "registration.rejected": {
        "en": ("Registration rejected: {title}", "Your registration for {title} was not approved."),
        "zh": ("竞买登记未通过：{title}", "您对{title}的竞买登记未获通过。"),
    },
    "registration.closing": {
        "en": ("Registration closes soon: {title}", "Registration for {title}, which you watch, closes at {closes_at}."),
        "zh": ("报名即将截止：{title}", "您关注的{title}将于{closes_at}截止竞买登记。"),
    },
    "lot.opening": {
        "en": ("Lot opening: {title}", "{title}, which you watch, opens for bidding at {opens_at}."),
        "zh": ("拍品即将开拍：{title}", "您关注的{title}将于{opens_at}开始竞价。"),
    },
    "bid.outbid": {
        "en": ("You have been outbid: {title}", "Paddle {leading_paddle} now leads {title} at {amount} {currency}."),
        "zh": ("您的出价已被超越：{title}", "{leading_paddle}号牌以{amount} {currency}领先{title}。"),
    },
    "auction.won": {
        "en": ("You won {title}", "Paddle {paddle} won {title} at a hammer price of {hammer_price} {currency}."),
        "zh": ("您已竞得{title}", "{paddle}号牌以{hammer_price} {currency}的成交价竞得{title}。"),
    },
    "auction.lost": {
        "en": ("Auction closed: {title}", "{title} has closed; your paddle {paddle} did not win it."),
        "zh": ("竞价结束：{title}", "{title}竞价已结束，您的{paddle}号牌未竞得。"),
    },
    "settlement.due": {
        "en": ("Payment due for {title}", "Please pay {amount_due} {currency} by {due_date}."),
        "zh": ("{title}待付款", "请于{due_date}前支付{amount_due} {currency}。"),
    },
    "settlement.reminder": {
        "en": ("Payment reminder: {title}", "{amount_due} {currency} is due by {due_date} ({days_left} day(s) left)."),
        "zh": ("付款提醒：{title}", "应付{amount_due} {currency}，付款截止日{due_date}（剩余{days_left}天）。"),
    },
    "settlement.paid": {
        "en": ("Payment received: {title}", "Your payment of {amount_due} {currency} has been confirmed."),
        "zh": ("已收到付款：{title}", "您支付的{amount_due} {currency}已确认。"),
    },
    "settlement.defaulted": {
        "en": ("Settlement defaulted: {title}", "The payment for {title} was not made; the deposit is forfeited."),
        "zh": ("成交违约：{title}", "{title}未按期付款，保证金不予退还。"),
    },
    "settlement.second_chance": {
        "en": ("Second-chance offer: {title}", "{title} is offered to you at your best bid, {hammer_price} {currency}: pay {amount_due} {currency} by {due_date}."),
        "zh": ("递补成交：{title}", "{title}按您的最高出价{hammer_price} {currency}递补成交，请于{due_date}前支付{amount_due} {currency}。"),
    },
    "deposit.released": {
        "en": ("Deposit released: {title}", "Your deposit of {deposit_amount} {currency} for {title} is released."),
        "zh": ("保证金已退还：{title}", "您为{title}缴纳的保证金{deposit_amount} {currency}已退还。"),
    },
}


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def language_of(value: str | None) -> str:
    """A user's notification language, zh unless he chose en."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def render(event_type: str, payload: dict[str, Any], language: str) -> tuple[str, str]:
    """The (subject, body) of one notification in one language."""
    subject, body = _TEXTS[event_type][language_of(language)]
    values = _Lenient(payload)
    return subject.format_map(values), body.format_map(values)
