"""Notification API bodies."""

from typing import Any, Literal

from pydantic import AnyHttpUrl, Field, field_validator

from app.notifications.render import EVENT_TYPES
from app.schemas import RequestModel, ResponseModel, Timestamp

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class InboxItemOut(ResponseModel):
    id: int
    notification_id: str
    type: str
    auction_id: int | None
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: Timestamp
    read_at: Timestamp | None


class WebhookIn(RequestModel):
    url: AnyHttpUrl = Field(description="where the signed notifications are POSTed")
    events: list[EventType] = Field(default_factory=list, max_length=len(EVENT_TYPES),
                                    description="event types to receive; empty: all")

    @field_validator("url")
    @classmethod
    def _short(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > 2000:
            raise ValueError("url longer than 2000 characters")
        return value


class WebhookOut(ResponseModel):
    id: int
    organization_id: int
    url: str
    events: list[str]
    created_at: Timestamp


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the Standard Webhooks signing secret (whsec_...), shown once")


class DeliveryOut(ResponseModel):
    id: int
    notification_id: str
    type: str
    channel: str
    user_id: int | None
    webhook_id: int | None
    status: str
    attempts: int
    last_error: str | None
    created_at: Timestamp
    next_attempt_at: Timestamp


class PreferencesIn(RequestModel):
    language: Literal["zh", "en"] = Field(description="the language of your notifications")
