"""How often one lead submission gets no answer in time over a lossy link: the figure behind the
Redis chat runbook's retry count (section 7) and the leadprosper-lossy-link drill.

Brings up the Redis chat stack, drops packets between the app and LeadProsper at the given rate
(the drill's PacketLoss), and has the app's own submitter (lib/leads.js `submitLead`, no retry)
send N leads one after another in the app's container. Prints the share that timed out and what
that share means for a lead with R retries (it is lost only when R + 1 attempts in a row are).
Bounded: N attempts of at most the timeout each; the stack is removed on every exit.

    .venv/bin/python bench/lossy_link_attempts.py [--loss 0.3] [--attempts 150] [--timeout-ms 1500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results_io import publish  # noqa: E402
from harness import PacketLoss  # noqa: E402
from harness.stack.launch import prepare  # noqa: E402
from harness.stack.stack import Stack  # noqa: E402

COMPOSE = ROOT / "stack" / "redis-chat" / "compose.yaml"
START_SECONDS = 60.0  # node starting, on top of the attempts' own bound
SUBMIT = r"""
const { submitLead } = require('./lib/leads.js');
(async () => {
  const rows = [];
  for (let i = 0; i < Number(process.env.ATTEMPTS); i++) {
    const r = await submitLead({ id: `bench-${i}`, name: 'Bench Lead', email: `bench.${i}@example.test`,
      phone: '555-0100', category: 'auto', message: 'bench' });
    rows.push([r.ok, r.status, r.ms]);
  }
  console.log(JSON.stringify(rows));
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loss", type=float, default=0.3, help="share of packets dropped each way")
    parser.add_argument("--attempts", type=int, default=150)
    parser.add_argument("--timeout-ms", type=int, default=1500)
    args = parser.parse_args()
    definition, client, images = prepare(COMPOSE)
    with Stack(definition, images, client=client) as stack:
        # In the app's working directory (its compose working_dir), with its environment file loaded.
        command = (f"set -a && . ./.env.local && set +a && LEADPROSPER_TIMEOUT_MS={args.timeout_ms} "
                   "LEADPROSPER_RETRIES=0 node -e \"$SUBMIT\"")
        bound = args.attempts * args.timeout_ms / 1000 + START_SECONDS
        with PacketLoss(stack, "app", args.loss, peer="leadprosper"):
            result = stack.host("app").exec(command, timeout=bound,
                                            env={"SUBMIT": SUBMIT, "ATTEMPTS": str(args.attempts)})
    if not result.ok:
        raise SystemExit(f"the submitter failed (exit {result.exit_code}):\n{result.stderr[-2000:]}")
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    unanswered = sum(1 for ok, status, _ in rows if not ok and status in ("timeout", "network"))
    answered_ms = [ms for ok, _, ms in rows if ok]
    share = unanswered / len(rows)
    figures = {
        "loss each way": args.loss,
        "attempts": len(rows),
        "timeout ms": args.timeout_ms,
        "unanswered": unanswered,
        "unanswered share": round(share, 3),
        "answered p50 ms": statistics.median(answered_ms) if answered_ms else None,
        "answered max ms": max(answered_ms) if answered_ms else None,
    }
    for retries in (0, 3, 6):
        odds = f"1 in {1 / share ** (retries + 1):,.0f}" if share else "never seen"
        figures[f"lead lost with {retries} retries"] = odds
    publish("lossy_link_attempts", figures)


if __name__ == "__main__":
    main()
