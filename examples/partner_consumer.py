#!/usr/bin/env python3
"""A partner agency reads its referrals from the hub: redis-py, its own consumer group.

    python3 examples/partner_consumer.py --partner politi-vestegn --structure ssp
    python3 examples/partner_consumer.py --redis-url redis://127.0.0.1:6379/0 --count 1

The pattern any partner can copy (needs only `pip install redis`):
  1. create its own consumer group on its referral stream (once; "already exists" is fine);
  2. first re-read what it was given but did not acknowledge before (a crash between reading
     and XACK), then read new entries with XREADGROUP ... '>';
  3. dedupe by the CloudEvent `id` (delivery is at least once), handle, then XACK;
  4. with --acknowledge, tell the hub it received the referral: `referral.received` on its own
     update stream, naming the referral by its `id` (the hub answers on its referral-receipts stream).
By default it reaches the hub's embedded Redis on its unix socket in `.hub-data`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import redis


def connect(url: str | None, socket: Path) -> redis.Redis:
    if url:
        return redis.Redis.from_url(url)
    return redis.Redis(unix_socket_path=str(socket))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("HUB_REDIS_URL"), help="default: the embedded Redis")
    parser.add_argument("--socket", type=Path, default=Path(".hub-data/redis.sock"))
    parser.add_argument("--structure", default="ssp", choices=["ssp", "psp", "ksp"])
    parser.add_argument("--partner", default="politi-vestegn")
    parser.add_argument("--group", default="partner", help="the partner's own consumer group")
    parser.add_argument("--consumer", default="reader-1")
    parser.add_argument("--count", type=int, default=0, help="stop after this many new referrals (0: never)")
    parser.add_argument("--block-ms", type=int, default=5000)
    parser.add_argument("--timeout-s", type=float, default=0, help="give up after this long (0: never)")
    parser.add_argument("--acknowledge", action="store_true", help="send referral.received for each referral")
    args = parser.parse_args(argv)

    stream = f"hub.referrals.{args.structure}.{args.partner}.v1"
    client = connect(args.redis_url, args.socket)
    try:
        client.xgroup_create(stream, args.group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    seen: set[str] = set()  # a real partner keeps these ids in its own database
    handled = 0
    next_id = "0"  # our own pending entries first, then '>' (new ones)
    waited_ms = 0
    while not args.count or handled < args.count:
        reply = client.xreadgroup(args.group, args.consumer, {stream: next_id}, count=10, block=args.block_ms)
        entries = reply[0][1] if reply else []
        if next_id == "0" and not entries:
            next_id = ">"
            continue
        if not entries:
            waited_ms += args.block_ms
            if args.timeout_s and waited_ms >= args.timeout_s * 1000:
                print(f"no referral within {args.timeout_s:g} s", file=sys.stderr)
                return 1
            continue
        for entry_id, fields in entries:
            event = json.loads(fields[b"event"])
            if event["id"] not in seen:
                seen.add(event["id"])
                handle(event)
                if args.acknowledge:
                    acknowledge(client, args.partner, event["id"])
                handled += 1
            client.xack(stream, args.group, entry_id)
    return 0


def acknowledge(client: redis.Redis, partner: str, referral_id: str) -> None:
    """`referral.received` on the partner's own update stream (its id derived from the referral's,
    so a second run after a crash sends the same update, which the hub stores once)."""
    update = {
        "specversion": "1.0",
        "id": f"received-{referral_id}",
        "source": partner,
        "type": "dk.albertslund.hub.referral.received.v1",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": {"referral_ref": referral_id},
    }
    client.xadd(f"hub.referral-updates.{partner}.v1", {"event": json.dumps(update)})


def handle(event: dict) -> None:
    """What the partner does with a referral; here: print what it was given, one line."""
    data = event["data"]
    line = {
        "id": event["id"],
        "type": event["type"],
        "report_ref": data.get("report_ref"),
        "structure": data.get("structure"),
        "fields": sorted(data.get("fields", {})),
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
