// A partner agency reads its referrals from the hub: Node.js, the `redis` npm package, its own
// consumer group. The same pattern as examples/partner_consumer.py:
//   1. create its own consumer group on its referral stream (once; BUSYGROUP is fine);
//   2. first re-read what it was given but did not acknowledge (a crash before XACK), then '>';
//   3. dedupe by the CloudEvent `id` (delivery is at least once), handle, then XACK.
//
//   cd examples/node && npm ci
//   node partner_consumer.mjs --partner politi-vestegn --structure ssp
//   HUB_REDIS_URL=redis://127.0.0.1:6379/0 node partner_consumer.mjs --count 1
// Without HUB_REDIS_URL (or --redis-url) it reaches the hub's embedded Redis on its unix socket.
import { parseArgs } from "node:util";
import { createClient } from "redis";

const { values: opts } = parseArgs({
  options: {
    "redis-url": { type: "string", default: process.env.HUB_REDIS_URL ?? "" },
    socket: { type: "string", default: ".hub-data/redis.sock" },
    structure: { type: "string", default: "ssp" },
    partner: { type: "string", default: "politi-vestegn" },
    group: { type: "string", default: "partner" },
    consumer: { type: "string", default: "reader-1" },
    count: { type: "string", default: "0" }, // stop after this many new referrals (0: never)
    "block-ms": { type: "string", default: "5000" },
    "timeout-s": { type: "string", default: "0" }, // give up after this long (0: never)
  },
});

const stream = `hub.referrals.${opts.structure}.${opts.partner}.v1`;
const client = opts["redis-url"]
  ? createClient({ url: opts["redis-url"] })
  : createClient({ socket: { path: opts.socket } });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();

try {
  await client.xGroupCreate(stream, opts.group, "0", { MKSTREAM: true });
} catch (err) {
  if (!String(err.message).includes("BUSYGROUP")) throw err;
}

const seen = new Set(); // a real partner keeps these ids in its own database
const count = Number(opts.count);
const blockMs = Number(opts["block-ms"]);
const timeoutMs = Number(opts["timeout-s"]) * 1000;
let handled = 0;
let nextId = "0"; // our own pending entries first, then '>' (new ones)
let waitedMs = 0;
let status = 0;

while (!count || handled < count) {
  const reply = await client.xReadGroup(opts.group, opts.consumer, { key: stream, id: nextId }, {
    COUNT: 10,
    BLOCK: blockMs,
  });
  const messages = reply?.[0]?.messages ?? [];
  if (nextId === "0" && messages.length === 0) {
    nextId = ">";
    continue;
  }
  if (messages.length === 0) {
    waitedMs += blockMs;
    if (timeoutMs && waitedMs >= timeoutMs) {
      console.error(`no referral within ${timeoutMs / 1000} s`);
      status = 1;
      break;
    }
    continue;
  }
  for (const { id: entryId, message } of messages) {
    const event = JSON.parse(message.event);
    if (!seen.has(event.id)) {
      seen.add(event.id);
      handle(event);
      handled += 1;
    }
    await client.xAck(stream, opts.group, entryId);
  }
}
await client.close();
process.exit(status);

// What the partner does with a referral; here: print what it was given, one line.
function handle(event) {
  const { data } = event;
  console.log(
    JSON.stringify({
      id: event.id,
      type: event.type,
      report_ref: data.report_ref,
      structure: data.structure,
      fields: Object.keys(data.fields ?? {}).sort(),
    }),
  );
}
