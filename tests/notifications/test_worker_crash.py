"""kill -9 the worker mid-delivery: every notification still arrives, by webhook and by
email, and a duplicate is only ever the same notification again (same id, same body)."""

import asyncio
import uuid
from collections import defaultdict

from app.db import create_engine, create_sessionmaker
from app.identity.models import Organization, OrgKind, User
from app.notifications.models import Webhook
from app.notifications.outbox import enqueue
from app.notifications.service import new_secret
from app.security import Role
from tests.support.harness import Rig
from tests.support.receivers import SmtpServer, WebhookReceiver
from tests.support.waits import until

COUNT = 200


async def _outbox_of(database_url: str, url: str, secret: str) -> set[str]:
    """An organisation with one user and one webhook, and COUNT notifications for it."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            tag = uuid.uuid4().hex[:8]
            org = Organization(name=f"crash-org-{tag}", kind=OrgKind.enterprise)
            session.add(org)
            await session.flush()
            session.add(User(email=f"crash-{tag}@example.com", password_hash="-",
                             role=Role.enterprise, organization_id=org.id))
            session.add(Webhook(organization_id=org.id, url=url, secret=secret, events=[]))
            await session.flush()
            ids = {await enqueue(session, event_type="auction.lost", organization_id=org.id,
                                 auction_id=n, dedup_key=f"crash:{tag}:{n}",
                                 payload={"title": f"lot {n}", "paddle": "123"})
                   for n in range(COUNT)}
            await session.commit()
            return ids
    finally:
        await engine.dispose()


async def test_worker_killed_mid_delivery_loses_nothing(rig: Rig, tmp_path) -> None:
    receiver = await WebhookReceiver(new_secret()).start()
    smtp = SmtpServer(tmp_path).start()
    try:
        receiver.delay = 1.0  # a batch's answers spread over a second: the kill finds some unanswered
        ids = await _outbox_of(rig.database_url, receiver.url, receiver.secret)
        rig.start_redis(aof=False)
        rig.extra_env = {"TECHAUCTION_SMTP_URL": smtp.url, "TECHAUCTION_NOTIFY_LEASE_SECONDS": "2"}
        await asyncio.to_thread(rig.start_worker)
        # a batch is 50 sent together: past 60, the second batch is on the wire
        await until(lambda: len(receiver.ids()) >= 60, 90, "the first deliveries")
        rig.kill_worker()  # mid-delivery: some claimed, sent and not yet recorded
        assert len(receiver.ids()) < COUNT
        await asyncio.to_thread(rig.start_worker)
        await until(lambda: receiver.ids() >= ids, 120, "every webhook delivery")
        await until(lambda: len({m["X-Techauction-Notification"] for m in smtp.messages()})
                     >= COUNT, 120, "every mail")
    finally:
        await receiver.stop()
        smtp.stop()
    assert receiver.ids() == ids and receiver.bad_signatures == 0
    bodies = defaultdict(set)
    for msg_id, body in receiver.received:
        bodies[msg_id].add(repr(sorted(body.items())))
    assert all(len(b) == 1 for b in bodies.values()), "a duplicate differs from its original"
    assert {m["X-Techauction-Notification"] for m in smtp.messages()} == ids
    print(f"webhook posts {len(receiver.received)} for {COUNT} notifications")
