"""A log-stream receiver for bench/stream.sh: accepts GenericHttps deliveries (JSON arrays),
records each batch's size, sequence range and lag, and can be taken down and up
(`POST /control/down`, `/control/up`: 503 while down).

It reads only what it needs from each body (the sequences and the first event's `received_at`)
so that on a machine the server shares it takes little CPU. A batch's lag is its arrival minus
its *first* event's `received_at`: the largest lag of any event in it, so the lag percentiles
are per batch and err high.

    python3 bench/stream_receiver.py PORT OUT_FILE

OUT_FILE gets one line per accepted batch: `arrival_unix_s count first_seq last_seq lag_ms`.
`GET /control/stats` answers `{"events": N, "batches": B, "last_arrival": T}`.
"""

import json
import re
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, OUT = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
state = {"down": False, "events": 0, "batches": 0, "last_arrival": 0.0}
out = open(OUT, "a", buffering=1)


SEQUENCE = re.compile(rb'"sequence":(\d+)')
RECEIVED_AT = re.compile(rb'"received_at":"([^"]+)"')


def received_at(text):
    return datetime.fromisoformat(text.decode().replace("Z", "+00:00")).timestamp()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            body = json.dumps({k: state[k] for k in ("events", "batches", "last_arrival")})
        self.answer(200, body.encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/control/"):
            with lock:
                state["down"] = self.path == "/control/down"
            return self.answer(204)
        with lock:
            down = state["down"]
        if down:
            return self.answer(503, b"outage")
        arrival = time.time()
        sequences = SEQUENCE.findall(body)
        lag = int((arrival - received_at(RECEIVED_AT.search(body).group(1))) * 1000)
        with lock:
            state["events"] += len(sequences)
            state["batches"] += 1
            state["last_arrival"] = arrival
            out.write(f"{arrival:.3f} {len(sequences)} {int(sequences[0])} {int(sequences[-1])} {lag}\n")
        self.answer(204)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
