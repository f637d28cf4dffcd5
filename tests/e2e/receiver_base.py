# SPDX-License-Identifier: GPL-2.0-only
"""What the test receivers (pyroscope_receiver.py, otlp_receiver.py) share: a quiet
HTTP/1.1 handler that answers with a plain-text body and its length."""
import http.server


class QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, text=""):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
