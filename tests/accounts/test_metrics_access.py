"""GET /metrics is off without TECHAUCTION_METRICS_TOKEN, and needs that bearer token with it:
anonymous metrics let anyone count sealed bids."""

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.main import create_app

TOKEN = "metrics-" + "t" * 40


@pytest.fixture
async def metrics_client(settings):
    async def make(token: str | None):
        application = create_app(settings.model_copy(
            update={"metrics_token": SecretStr(token) if token is not None else None}))
        manager = LifespanManager(application)
        await manager.__aenter__()
        opened.append(manager)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                 base_url="http://testserver")

    opened: list[LifespanManager] = []
    yield make
    for manager in opened:
        await manager.__aexit__(None, None, None)


@pytest.mark.parametrize("token", [None, ""])
async def test_without_the_setting_metrics_are_off(metrics_client, token):
    client = await metrics_client(token)
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": f"Bearer {TOKEN}"}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
     "Bearer ünïcode".encode()],
)
async def test_metrics_need_the_bearer_token(metrics_client, authorization):
    client = await metrics_client(TOKEN)
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.get("/metrics", headers=headers)

    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    assert "techauction_http_requests_total" not in response.text


async def test_metrics_with_the_token(metrics_client):
    client = await metrics_client(TOKEN)
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "techauction_http_requests_total" in response.text
