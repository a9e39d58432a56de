"""The listing lifecycle: who may move a listing from which status to which. Pure."""

from enum import StrEnum

from app.listings.models import ListingStatus as S
from app.security import Role


class Action(StrEnum):
    edit = "edit"
    submit = "submit"
    approve = "approve"
    reject = "reject"
    withdraw = "withdraw"


# action -> (roles allowed, statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Role], frozenset[S], S]] = {
    # Editing a rejected listing reopens it as a draft for resubmission.
    Action.edit: (frozenset({Role.institute}), frozenset({S.draft, S.rejected}), S.draft),
    Action.submit: (frozenset({Role.institute}), frozenset({S.draft, S.rejected}), S.pending_review),
    Action.approve: (frozenset({Role.admin}), frozenset({S.pending_review}), S.approved),
    Action.reject: (frozenset({Role.admin}), frozenset({S.pending_review}), S.rejected),
    Action.withdraw: (
        frozenset({Role.institute, Role.admin}),
        frozenset({S.draft, S.pending_review, S.approved, S.rejected}),
        S.withdrawn,
    ),
}

# Statuses anyone may read: the listing has passed review.
PUBLIC_STATUSES = frozenset({S.approved, S.in_auction, S.sold, S.unsold})


def role_may(action: Action, role: Role) -> bool:
    """Whether the role may take the action at all."""
    return role in TRANSITIONS[action][0]


def next_status(action: Action, current: S) -> S | None:
    """The status the action leads to from current, or None when it is not allowed from there."""
    _, sources, target = TRANSITIONS[action]
    return target if current in sources else None
