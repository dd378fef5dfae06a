"""A tiny HTTP proxy in front of a node that counts JSON-RPC round trips (every POST is one): how the ops
tests check that a command reads the chain in a few batches."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingProxy:
    """Forwards every JSON-RPC POST to ``target`` and counts them."""

    def __init__(self, target: str) -> None:
        self.count = 0
        #: Per round trip: its methods and how many requests it carried ("eth_call x12").
        self.methods: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.count += 1
                request_json = json.loads(body)
                batch = request_json if isinstance(request_json, list) else [request_json]
                proxy.methods.append(",".join(sorted({str(r.get("method")) for r in batch})) + f" x{len(batch)}")
                request = urllib.request.Request(target, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
