"""Question and answer payloads: the asker is never in them."""

from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas import RequestModel, ResponseModel, Timestamp


class QuestionCreate(RequestModel):
    text: Annotated[str, Field(min_length=5, max_length=2000)]


class AnswerCreate(RequestModel):
    answer: Annotated[str, Field(min_length=1, max_length=5000)]


class QuestionOut(ResponseModel):
    id: int
    auction_id: int
    text: str
    asked_at: Timestamp
    answer: str | None
    answered_at: Timestamp | None
    mine: Annotated[bool, Field(description="asked by the caller's own organisation")] = False


class QuestionList(BaseModel):
    items: list[QuestionOut]
