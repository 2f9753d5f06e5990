"""Per-tenant queues in front of arq, served round robin.

arq's queue is one FIFO: a tenant that sends 60 messages at once puts 60 jobs ahead
of everyone else's next message. So a tenant's message jobs enter arq only while
that tenant has fewer than `cap` of them there (queued or running); the rest wait in
the tenant's own queue (`sb:t:<tenant>:waiting`, oldest first). When one of its jobs
ends, the tenant's next message goes to the *back* of arq's queue, behind whatever
other tenants queued meanwhile: each tenant is served in turn, whatever its backlog.

arq stays the engine (retries, deferrals, timeouts, the job id that makes a second
enqueue a no-op); this decides when a message job is handed to it, and writes the
job into arq's queue as arq's own enqueue would, in the same script.

Redis is a transport: an admission whose arq job no longer exists (a worker killed
between admitting a message and queueing its job, a lost queue, a job that ended
without `release`) goes back to the head of the tenant's queue on the next call for
that tenant and is handed to arq again (a job whose message is already done does
nothing), and the sweeper calls `fill` for every tenant, so no message waits here
forever. Messages stay `queued` in PostgreSQL meanwhile.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

from app.core.redis_client import get_redis, tenant_key

# An admission younger than this is kept even if its arq job is not visible: its
# job may have just ended, with its worker's release on the way; older, it was lost.
ADMIT_GRACE_S = 10.0
KEY_TTL_S = 86_400

# KEYS: admitted zset (message id -> admitted at), waiting zset (message id ->
# arrival sequence), sequence counter, arq's queue, and on release optionally the
# ended job's concurrency slots (jobs/fairness.py).
# ARGV: mode (admit | release | fill), message id, now (s), cap, grace, arq job key
# prefix, arq in-progress key prefix, job id prefix, key lifetime, the ended job's
# slot member, arq result key prefix, job key lifetime (ms), wake channel, job
# function, tenant id.
# Hands the admitted messages' jobs to arq itself, in the same round trip: each
# once per job id (arq's enqueue rule: not while a job or a kept result with that
# id exists), written as arq's JSON job (app/core/queue.py `dump_job`), and the
# workers woken. Returns the message ids whose jobs it queued (oldest first).
_SCRIPT = """
local admitted, waiting, seq, arq_queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local out = {}
if mode == 'release' then
  redis.call('ZREM', admitted, id)
  if KEYS[5] then redis.call('ZREM', KEYS[5], ARGV[10]) end
end
local settled = now - tonumber(ARGV[5])
for _, m in ipairs(redis.call('ZRANGEBYSCORE', admitted, '-inf', settled)) do
  local job = ARGV[8] .. m
  if redis.call('EXISTS', ARGV[6] .. job, ARGV[7] .. job) == 0 then
    -- Its job is gone: back to the head of the line, to be handed over again.
    redis.call('ZREM', admitted, m)
    redis.call('ZADD', waiting, 0, m)
  end
end
if mode == 'admit' then
  if redis.call('ZSCORE', admitted, id) then
    table.insert(out, id)
  elseif not redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', waiting, redis.call('INCR', seq), id)
  end
end
while redis.call('ZCARD', admitted) < cap do
  local nxt = redis.call('ZPOPMIN', waiting, 1)
  if #nxt == 0 then break end
  redis.call('ZADD', admitted, now, nxt[1])
  table.insert(out, nxt[1])
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[9])) end
local queued = {}
local now_ms = math.floor(now * 1000)
for _, m in ipairs(out) do
  local job = ARGV[8] .. m
  if redis.call('EXISTS', ARGV[6] .. job, ARGV[11] .. job) == 0 then
    local body = cjson.encode({
      t = cjson.null, f = ARGV[14], a = {ARGV[15], m}, k = {}, et = now_ms
    })
    redis.call('PSETEX', ARGV[6] .. job, ARGV[12], body)
    redis.call('ZADD', arq_queue, now_ms, job)
    table.insert(queued, m)
  end
end
if #queued > 0 then redis.call('PUBLISH', ARGV[13], '') end
return queued
"""


Mode = Literal["admit", "release", "fill"]


def admitted_key(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "fq", "admitted")


def waiting_key(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "fq", "waiting")


@dataclass(frozen=True)
class Arq:
    """Where and how arq keeps jobs (app/core/queue.py knows; this module does not
    import arq): its queue, its key prefixes, a job key's lifetime, the workers'
    wake channel, the message job's function and its job id prefix."""

    queue: str
    job_key_prefix: str
    in_progress_prefix: str
    result_key_prefix: str
    job_key_ms: int
    wake_channel: str
    function: str
    job_id_prefix: str


async def step(
    mode: Mode,
    tenant_id: uuid.UUID | str,
    message_id: uuid.UUID | str | None,
    *,
    cap: int,
    arq: Arq,
    slot: tuple[str, str] | None = None,
) -> list[uuid.UUID]:
    """One atomic step of the tenant's queue: `admit` a new message, `release` one
    whose job ended (and free its concurrency `slot`, (key, member), in the same
    round trip), or just `fill` free places; the jobs of the messages it admits go
    into arq's queue in the same round trip. Returns the messages whose jobs it
    queued."""
    keys = [
        admitted_key(tenant_id),
        waiting_key(tenant_id),
        tenant_key(tenant_id, "fq", "seq"),
        arq.queue,
    ]
    slot_key, slot_member = slot or ("", "")
    if slot_key and mode == "release":
        keys.append(slot_key)
    ids = await get_redis().eval(  # type: ignore[misc]
        _SCRIPT,
        len(keys),
        *keys,
        mode,
        str(message_id or ""),
        time.time(),
        max(1, cap),
        ADMIT_GRACE_S,
        arq.job_key_prefix,
        arq.in_progress_prefix,
        arq.job_id_prefix,
        KEY_TTL_S,
        slot_member,
        arq.result_key_prefix,
        arq.job_key_ms,
        arq.wake_channel,
        arq.function,
        str(tenant_id),
    )
    return [uuid.UUID(str(i)) for i in ids or []]


async def depth(tenant_id: uuid.UUID | str) -> tuple[int, int]:
    """(admitted to arq, waiting here) for one tenant: the queue depth."""
    async with get_redis().pipeline(transaction=False) as pipe:
        pipe.zcard(admitted_key(tenant_id))
        pipe.zcard(waiting_key(tenant_id))
        admitted, waiting = await pipe.execute()
    return int(admitted), int(waiting)
