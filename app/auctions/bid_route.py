"""The bid endpoint's route: its parameters read directly, with FastAPI's own types.

FastAPI solves an endpoint's parameters generically (a dependency graph, each parameter
validated on its own, the body's media type parsed with the email package); on the bid path
that was a fifth of a bid's CPU (docs/decisions/0001-bid-route.md). BidRoute keeps everything
else of FastAPI's route: matching, the OpenAPI document made from the endpoint's signature,
the error handlers. Only the handler differs: it reads what the signature declares, with the
very same parsers and types (OAuth2PasswordBearer, the role check, IdPath, the
Idempotency-Key header type, BidCreate), and calls the endpoint with them. The answers to bad
input are FastAPI's (tests/auctions/test_bid_requests.py), except that a request is authenticated
before its body is read: a caller without a valid token gets 401 whatever he sent.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

from app.auctions.own_listing import bidder_for
from app.auctions.schemas import BidCreate
from app.schemas import IdPath
from app.security import oauth2_scheme

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"),
]

_AUCTION_ID = TypeAdapter(IdPath)
_IDEMPOTENCY_KEY = TypeAdapter(IdempotencyKey)
_BID_BODY = TypeAdapter(BidCreate)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class BidRoute(APIRoute):
    """An APIRoute whose handler reads the bid endpoint's parameters itself."""

    def get_route_handler(self) -> Handler:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            return await endpoint(request=request, **await read_bid_request(request))

        return handler


async def read_bid_request(request: Request) -> dict[str, Any]:
    """The place_bid arguments of a request: 401/403 first, then every 422 error at once."""
    principal = await bidder_for(request, await oauth2_scheme(request),
                                 request.path_params.get("auction_id"))
    errors: list[dict[str, Any]] = []
    auction_id = _validate(_AUCTION_ID, request.path_params["auction_id"], ("path", "auction_id"),
                           errors)
    key = request.headers.get("idempotency-key")
    if key is not None:
        key = _validate(_IDEMPOTENCY_KEY, key, ("header", "Idempotency-Key"), errors)
    data = _validate_body(await request.body(), request.headers.get("content-type"), errors)
    if errors:
        raise RequestValidationError(errors)
    return {"principal": principal, "auction_id": auction_id, "data": data,
            "idempotency_key": key}


def _validate(adapter: TypeAdapter, value: Any, loc: tuple, errors: list) -> Any:
    try:
        return adapter.validate_python(value, from_attributes=True)
    except ValidationError as exc:
        errors.extend({**e, "loc": (*loc, *e["loc"])} for e in exc.errors(include_url=False))
        return None


def _validate_body(raw: bytes, content_type: str | None, errors: list) -> BidCreate | None:
    # As FastAPI with strict content types: JSON is parsed only when declared as JSON.
    if not raw:
        errors.append({"type": "missing", "loc": ("body",), "msg": "Field required"})
        return None
    body: Any = raw
    if content_type is not None and _is_json(content_type):
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append({"type": "json_invalid", "loc": ("body", exc.pos),
                           "msg": "JSON decode error"})
            return None
        except RecursionError:  # nested deeper than the parser goes: no bid is
            errors.append({"type": "json_invalid", "loc": ("body",),
                           "msg": "JSON nested too deeply"})
            return None
        except ValueError as exc:  # not UTF-8: the framework's "unparsable body"
            raise HTTPException(status_code=400) from exc
    return _validate(_BID_BODY, body, ("body",), errors)


def _is_json(content_type: str) -> bool:
    maintype, _, subtype = content_type.partition(";")[0].strip().lower().partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))

