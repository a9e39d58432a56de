"""Who may manage and who may read a listing's documents. Pure."""

from app.documents.models import Visibility
from app.listings.models import ListingStatus as S
from app.security import Principal, Role

# A listing's documents may change until its auction has an outcome (or it is withdrawn):
# due-diligence material is often added after approval, while bidders register.
DOCUMENTS_EDITABLE = frozenset({S.draft, S.pending_review, S.rejected, S.approved, S.in_auction})


def owns(principal: Principal | None, organization_id: int) -> bool:
    """The caller is a user of the institute that owns the listing."""
    return (principal is not None and principal.role is Role.institute
            and principal.organization_id == organization_id)


def may_manage(principal: Principal, *, owner_id: int) -> bool:
    """The owning institute and admin upload and delete documents."""
    return principal.role is Role.admin or owns(principal, owner_id)


def may_read(
    principal: Principal | None, *, visibility: Visibility, owner_id: int, cleared: bool
) -> bool:
    """Public documents: whoever reads the listing. The data room: owner, admin, auditor, and
    enterprises qualified for an auction of the listing whose terms they accepted (cleared)."""
    if visibility is Visibility.public:
        return True
    if principal is None:
        return False
    if principal.is_staff_reader or owns(principal, owner_id):
        return True
    return principal.role is Role.enterprise and cleared
