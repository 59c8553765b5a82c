"""An HTTP server for the webhook tests: on 127.0.0.1, on a port the system picks (printed as the
first line of stdout), appending each POST as one JSON line {"path": …, "content_type": …,
"body": the body as text} to FILE and answering 200 — or 500 to the first FAIL_FIRST requests.

    python3 http_sink.py FILE [FAIL_FIRST]
"""

import http.server
import json
import sys
import threading

lock = threading.Lock()
state = {"seen": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        with lock:
            state["seen"] += 1
            failing = state["seen"] <= FAIL_FIRST
            with open(FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps({
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "answer": 500 if failing else 200,
                    "body": body,
                }) + "\n")
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    FILE = sys.argv[1]
    FAIL_FIRST = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
