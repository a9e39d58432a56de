"""The listing lifecycle rules, exhaustively: every action x status x role."""

import pytest

from app.listings.models import ListingStatus as S
from app.listings.rules import PUBLIC_STATUSES, TRANSITIONS, Action, next_status, role_may
from app.security import Role

# Written out by hand from the product contract, not derived from the code under test.
EXPECTED_TARGET: dict[Action, dict[S, S]] = {
    Action.edit: {S.draft: S.draft, S.rejected: S.draft},
    Action.submit: {S.draft: S.pending_review, S.rejected: S.pending_review},
    Action.approve: {S.pending_review: S.approved},
    Action.reject: {S.pending_review: S.rejected},
    Action.withdraw: {
        S.draft: S.withdrawn, S.pending_review: S.withdrawn, S.approved: S.withdrawn,
        S.rejected: S.withdrawn,
    },
}
EXPECTED_ROLES: dict[Action, set[Role]] = {
    Action.edit: {Role.institute},
    Action.submit: {Role.institute},
    Action.approve: {Role.admin},
    Action.reject: {Role.admin},
    Action.withdraw: {Role.institute, Role.admin},
}


def test_every_action_and_status_is_covered():
    assert set(Action) == set(EXPECTED_TARGET) == set(TRANSITIONS)
    assert {a.value for a in Action} == {"edit", "submit", "approve", "reject", "withdraw"}
    assert {s.value for s in S} == {
        "draft", "pending_review", "approved", "rejected", "withdrawn", "in_auction", "sold",
        "unsold",
    }


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(Action))
def test_next_status(action, status):
    assert next_status(action, status) == EXPECTED_TARGET[action].get(status)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_may(action, role):
    assert role_may(action, role) is (role in EXPECTED_ROLES[action])


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(Action))
def test_action_allowed_only_for_its_roles_and_statuses(action, status, role):
    allowed = role_may(action, role) and next_status(action, status) is not None
    expected = role in EXPECTED_ROLES[action] and status in EXPECTED_TARGET[action]
    assert allowed is expected


@pytest.mark.parametrize("role", list(Role))
def test_auditor_and_enterprise_change_nothing(role):
    may = {a for a in Action if role_may(a, role)}
    assert may == {
        Role.admin: {Action.approve, Action.reject, Action.withdraw},
        Role.institute: {Action.edit, Action.submit, Action.withdraw},
        Role.enterprise: set(),
        Role.auditor: set(),
    }[role]


@pytest.mark.parametrize("status", [S.in_auction, S.sold, S.unsold, S.withdrawn])
def test_terminal_and_auction_statuses_have_no_review_actions(status):
    assert all(next_status(action, status) is None for action in Action)


def test_public_statuses_are_after_approval():
    assert frozenset({S.approved, S.in_auction, S.sold, S.unsold}) == PUBLIC_STATUSES
    assert not PUBLIC_STATUSES & {S.draft, S.pending_review, S.rejected, S.withdrawn}


def test_review_actions_never_lead_to_auction_statuses():
    targets = {target for _, _, target in TRANSITIONS.values()}
    assert targets == {S.draft, S.pending_review, S.approved, S.rejected, S.withdrawn}
