"""Document and confidentiality-terms payloads."""

from typing import Annotated

from pydantic import BaseModel, Field

from app.documents.models import DocumentKind, Visibility
from app.schemas import RequestModel, ResponseModel, Timestamp


class DocumentFields(RequestModel):
    """The form fields sent with the file (multipart/form-data)."""

    kind: DocumentKind = DocumentKind.other
    visibility: Visibility = Visibility.public


class DocumentOut(ResponseModel):
    id: int
    listing_id: int
    kind: DocumentKind
    visibility: Visibility
    filename: Annotated[str | None, Field(
        description="null for a data-room document the caller may not open: that the data room "
                    "holds it is public, what it is is not")]
    media_type: str
    size_bytes: int
    sha256: Annotated[str | None, Field(
        description="hex SHA-256 of the bytes `GET /documents/{id}` returns (null as filename)")]
    created_at: Timestamp
    accessible: Annotated[bool, Field(description="whether the caller may download it now")] = False


class DocumentList(BaseModel):
    items: list[DocumentOut]


class NdaOut(ResponseModel):
    auction_id: int
    organization_id: int
    accepted_at: Timestamp


UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "additionalProperties": False,
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "PDF, PNG or JPEG (judged by content), up to the size cap"},
                "kind": {"type": "string", "enum": [k.value for k in DocumentKind],
                         "default": "other"},
                "visibility": {"type": "string", "enum": [v.value for v in Visibility],
                               "default": "public"},
            },
        }}},
    },
}
