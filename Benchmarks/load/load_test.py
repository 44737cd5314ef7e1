#!/usr/bin/env python3
"""Plain-HTTP load test of an OpenAI-compatible server on loopback (standard library only).

N concurrent clients, each on its own keep-alive HTTP/1.1 connection, share a bounded number of requests to
/v1/completions (or /v1/chat/completions with --chat) and the script prints requests/s, p50/p99 latency and the
error count. It refuses non-loopback URLs: load is only ever sent to this machine.

    python3 Benchmarks/load/load_test.py --url http://127.0.0.1:8091/v1 --clients 16 --requests 2000
"""
import argparse
import asyncio
import json
import math
import sys
import time
from urllib.parse import urlsplit


async def read_response(reader):
    """Reads one HTTP/1.1 response (Content-Length or chunked body); returns (status, body bytes)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.read()
    return status, body


async def client(host, port, path, make_body, counter, total, results, timeout):
    reader = writer = None
    while True:
        index = counter[0]
        if index >= total:
            break
        counter[0] += 1
        payload = json.dumps(make_body(index)).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        start = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            status, body = await asyncio.wait_for(read_response(reader), timeout)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
            json.loads(body)
            results.append((time.perf_counter() - start, None))
        except Exception as error:  # counted, reported, and the connection is reopened
            results.append((None, repr(error)))
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def percentile(values, p):
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8091/v1", help="server base URL (loopback only)")
    parser.add_argument("--model", default="scripted")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--chat", action="store_true")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    url = urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1") and not (url.hostname or "").startswith("127."):
        sys.exit("--url must be a loopback address")
    if args.chat:
        path = url.path.rstrip("/") + "/chat/completions"
        make_body = lambda i: {"model": args.model, "messages": [{"role": "user", "content": f"request {i}"}],
                               "max_tokens": args.max_tokens, "seed": i}
    else:
        path = url.path.rstrip("/") + "/completions"
        make_body = lambda i: {"model": args.model, "prompt": f"request {i} ", "max_tokens": args.max_tokens, "seed": i}
    counter, results = [0], []
    start = time.perf_counter()
    await asyncio.gather(*(client(url.hostname, url.port or 80, path, make_body, counter, args.requests, results, args.timeout)
                           for _ in range(args.clients)))
    elapsed = time.perf_counter() - start
    latencies = sorted(r[0] for r in results if r[0] is not None)
    errors = [r[1] for r in results if r[1] is not None]
    print(f"{len(results)} requests, {len(errors)} errors in {elapsed:.2f} s: {len(latencies) / elapsed:.1f} requests/s, "
          f"latency p50 {percentile(latencies, 50) * 1e3:.2f} ms, p99 {percentile(latencies, 99) * 1e3:.2f} ms"
          if latencies else f"{len(results)} requests, all failed")
    if errors:
        print("first error:", errors[0])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
