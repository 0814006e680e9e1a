"""Load generators, run in this (separate) process against 127.0.0.1 only: HTTP with N concurrent
clients (aiohttp), and chat pairs of real Socket.IO clients (python-socketio's asyncio client)."""

import asyncio
import time
import uuid

import aiohttp
import socketio

from .db import percentile
from .server import LOAD_CPUS, on_cpus

# The chat hides digit runs (phone numbers) in messages, so a timestamp travels as letters.
LETTERS = str.maketrans("0123456789", "abcdefghij")
DIGITS = str.maketrans("abcdefghij", "0123456789")


def _stamp(name):
    return f"{name}|{repr(time.perf_counter()).translate(LETTERS)}|".translate(LETTERS)


def _sent_at(content):
    return float(content.split("|", 2)[1].translate(DIGITS))


def http_load(url, concurrency, seconds, headers=None):
    """(requests per second, p50 ms, p99 ms, non-200 answers) for `concurrency` clients looping on `url`."""
    with on_cpus(LOAD_CPUS):
        return asyncio.run(_http_load(url, concurrency, seconds, headers or {}))


async def _http_load(url, concurrency, seconds, headers):
    latencies, failures = [], 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        for _ in range(concurrency):  # warm up: pools, templates, the first connections
            async with session.get(url) as response:
                await response.read()
        deadline = time.perf_counter() + seconds

        async def client():
            nonlocal failures
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99), failures


class ChatResult:
    def __init__(self, sent, received, latencies, refused, seconds):
        self.sent, self.received, self.refused, self.seconds = sent, received, refused, seconds
        self.p50 = percentile(latencies, 50) if latencies else float("nan")
        self.p99 = percentile(latencies, 99) if latencies else float("nan")
        self.lost = sent - refused - received

    @property
    def per_second(self):
        return self.received / self.seconds


def chat_load(pairs, seconds, transports=("websocket",), started=None):
    """pairs: [(user_url, user_cookie, astrologer_url, astrologer_cookie, session_id)]. Both sides of
    every pair send one message a second for `seconds`; each message's latency is from the sender's
    emit to the other side's `message` event (one process, one clock). `started()` is called once
    every socket has connected and joined, as the messages begin (to read the servers' CPU from there)."""
    with on_cpus(LOAD_CPUS):
        return asyncio.run(_chat_load(pairs, seconds, list(transports), started or (lambda: None)))


async def _chat_load(pairs, seconds, transports, started):
    latencies, counts = [], {"sent": 0, "received": 0, "refused": 0, "unacknowledged": 0}
    clients = []

    async def connect(url, cookie, session_id, name):
        client = socketio.AsyncClient(reconnection=False)

        @client.on("message")
        async def message(payload):
            content = payload.get("content", "")
            if "|" in content and content.split("|", 1)[0] != name.translate(LETTERS):  # the other side's
                latencies.append((time.perf_counter() - _sent_at(content)) * 1000)
                counts["received"] += 1

        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        await client.connect(url, headers=headers, transports=transports, wait_timeout=30)
        ack = await client.call("join_session", {"session_id": session_id, "after_seq": 0}, timeout=30)
        assert ack.get("ok") is not False, ack
        return client

    semaphore = asyncio.Semaphore(50)  # connect in waves, as users arrive

    async def connect_pair(index, pair):
        user_url, user_cookie, astro_url, astro_cookie, session_id = pair
        async with semaphore:
            user = await connect(user_url, user_cookie, session_id, f"u{index}")
            astro = await connect(astro_url, astro_cookie, session_id, f"a{index}")
        clients.extend([(user, f"u{index}", session_id), (astro, f"a{index}", session_id)])

    await asyncio.gather(*(connect_pair(index, pair) for index, pair in enumerate(pairs)))

    async def talk(client, name, session_id, offset):
        await asyncio.sleep(offset)  # spread the sends over the second
        for n in range(seconds):
            if time.perf_counter() - start > seconds + 2:
                break  # a saturated server: the benchmark still stops by itself, on time
            content = _stamp(name) + " hello"
            payload = {"session_id": session_id, "client_id": f"{name}-{run}-{n}", "content": content}
            counts["sent"] += 1
            try:
                ack = await client.call("send_message", payload, timeout=30)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                counts["unacknowledged"] += 1  # a saturated server: counted, never a crash
                continue
            if not ack.get("ok"):
                counts["refused"] += 1
            await asyncio.sleep(max(0.0, (n + 1) - (time.perf_counter() - start) + offset))

    run = uuid.uuid4().hex[:8]  # client ids are idempotency keys: a new run must not repeat the last one's
    started()
    start = time.perf_counter()
    await asyncio.gather(*(talk(c, name, sid, i / len(clients)) for i, (c, name, sid) in enumerate(clients)))
    await asyncio.sleep(2)  # the last messages in flight
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(client.disconnect() for client, _, _ in clients), return_exceptions=True)
    result = ChatResult(counts["sent"], counts["received"], latencies, counts["refused"], elapsed)
    result.unacknowledged = counts["unacknowledged"]
    return result


def hold_sockets(url, cookies, measure, settle=5):
    """Connect one authenticated socket per cookie, let them idle `settle` seconds, call `measure()`.
    Returns (sockets connected, what measure returned)."""
    return asyncio.run(_hold_sockets(url, cookies, measure, settle))


async def _hold_sockets(url, cookies, measure, settle):
    clients, semaphore = [], asyncio.Semaphore(50)

    async def connect(cookie):
        client = socketio.AsyncClient(reconnection=False)
        async with semaphore:
            await client.connect(
                url, headers={"Cookie": f"session={cookie}"}, transports=["websocket"], wait_timeout=30
            )
        clients.append(client)

    await asyncio.gather(*(connect(cookie) for cookie in cookies))
    await asyncio.sleep(settle)
    connected = sum(1 for client in clients if client.connected)
    figure = measure()
    await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
    return connected, figure
