"""Question endpoints: thin views over the service."""

from fastapi import APIRouter

from app.db import SessionDep
from app.questions import service
from app.questions.schemas import AnswerCreate, QuestionCreate, QuestionList, QuestionOut
from app.schemas import IdPath
from app.security import CurrentUser, EnterpriseUser, OptionalUser

router = APIRouter(tags=["questions"])


@router.post("/auctions/{auction_id}/questions", status_code=201, response_model=QuestionOut)
async def ask_question(
    session: SessionDep, principal: EnterpriseUser, auction_id: IdPath, data: QuestionCreate
) -> QuestionOut:
    """Ask about a lot (an enterprise registered for the auction); the asker stays anonymous."""
    question = await service.ask(session, principal=principal, auction_id=auction_id, text=data.text)
    return service.to_out(question, principal)


@router.get("/auctions/{auction_id}/questions", response_model=QuestionList)
async def list_questions(session: SessionDep, principal: OptionalUser, auction_id: IdPath) -> QuestionList:
    """Answered questions (public); the caller's own pending ones; all to owner, admin, auditor."""
    items = await service.list_questions(session, principal=principal, auction_id=auction_id)
    return QuestionList(items=items)


@router.post("/questions/{question_id}/answer", response_model=QuestionOut)
async def answer_question(
    session: SessionDep, principal: CurrentUser, question_id: IdPath, data: AnswerCreate
) -> QuestionOut:
    """Answer a question in public, once (the owning institute or admin)."""
    question = await service.answer(session, principal=principal, question_id=question_id, text=data.answer)
    return service.to_out(question, principal)
