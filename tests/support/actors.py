"""Signed-in users of every role, made through the real API (admin bootstrapped as the CLI does)."""

import itertools
import uuid
from dataclasses import dataclass

import httpx

from app.identity import service as identity
from app.identity.models import ROLE_ORG_KIND
from app.identity.schemas import UserCreate
from app.security import Role
from app.settings import Settings

PASSWORD = "s3cret-passw0rd"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: Role
    organization_id: int | None
    email: str
    headers: dict[str, str]


class Actors:
    """Factory of organisations and signed-in users for tests."""

    def __init__(self, client: httpx.AsyncClient, admin: Actor) -> None:
        self.client = client
        self.admin = admin

    @classmethod
    async def bootstrap(cls, *, app, client: httpx.AsyncClient, settings: Settings) -> "Actors":
        """Create the first admin directly (like `techauction create-admin`) and sign in."""
        email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
        async with app.state.sessionmaker() as session:
            data = UserCreate(email=email, password=PASSWORD, role=Role.admin)
            user = await identity.create_user(
                session, data=data, settings=settings, actor_id=None
            )
            await session.commit()
        headers = await sign_in(client, email)
        return cls(client, Actor(user.id, Role.admin, None, email, headers))

    async def organization(self, kind: str, name: str | None = None) -> int:
        """A new organisation of the kind; returns its id."""
        name = name or f"{kind}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        response = await self.client.post(
            "/api/v1/organizations", json={"name": name, "kind": kind}, headers=self.admin.headers
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def user(self, role: Role | str, organization_id: int | None = None) -> Actor:
        """A signed-in user of the role, in a new organisation of the right kind unless given."""
        role = Role(role)
        kind = ROLE_ORG_KIND[role]
        if organization_id is None and kind is not None:
            organization_id = await self.organization(kind.value)
        email = f"{role.value}-{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
        body = {"email": email, "password": PASSWORD, "role": role.value,
                "organization_id": organization_id}
        response = await self.client.post("/api/v1/users", json=body, headers=self.admin.headers)
        assert response.status_code == 201, response.text
        headers = await sign_in(self.client, email)
        return Actor(response.json()["id"], role, organization_id, email, headers)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict:
    """Bearer headers for the user."""
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
