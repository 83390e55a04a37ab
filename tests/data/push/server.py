#!/usr/bin/env python3
"""A recording HTTP server for the push tests: every request, one JSON line in LOG.

    server.py PORT LOG STATUS_FILE [CERT KEY]

Each line: {"t": unix seconds, "method", "path", "headers": {lower-case name: value},
"body": base64, "status": the status answered}. The status answered is the integer in
STATUS_FILE when it exists, else 200; it is read per request, so a test changes it live.
With CERT and KEY (PEM), it speaks HTTPS.
"""

import base64
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG, STATUS_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def status():
    try:
        with open(STATUS_FILE) as f:
            return int(f.read().strip() or "200")
    except FileNotFoundError:
        return 200


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        code = status()
        record = {
            "t": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": base64.b64encode(body).decode(),
            "status": code,
        }
        with open(LOG, "a") as f:
            f.write(json.dumps(record) + "\n")
        answer = json.dumps({"status": code}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = handle_one
    do_PUT = handle_one

    def log_message(self, *args):
        pass


ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", PORT), Recorder)
if len(sys.argv) > 5:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
