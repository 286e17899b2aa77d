"""lead-worker-stopped: the lead worker is stopped under pm2; leads pile up in the queue."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, ServiceStopped
from scenarios.redis_chat import every_lead_delivered, redis_chat_scenario

# pm2 says "online" for a running app; the fault wants systemctl's word for it.
PM2_STATE = ("pm2 jlist | jq -r '.[] | select(.name == \"lead-worker\") | .pm2_env.status' "
             "| sed 's/^online$/active/'")


@redis_chat_scenario("lead-worker-stopped", section="3-leads-stuck-in-the-queue", severity="P1",
                     detect_within="20s", recover_within="45s", steady=every_lead_delivered,
                     checks=(every_lead_delivered,))
def lead_worker_stopped(drill: DrillContext) -> Iterator[None]:
    """The lead worker stops (pm2 stop): leads are queued but nobody submits them"""
    with ServiceStopped(drill.stack, drill.stack.host("app"), "lead-worker", stop_command="pm2 stop lead-worker",
                        start_command="pm2 start lead-worker", active_command=PM2_STATE):
        yield
