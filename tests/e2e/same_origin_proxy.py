#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""For browser tests of a page flamed serves: serves one local driver page at /driver.html and
passes every other GET on to flamed's server, so the driver and the page it drives share an
origin (a page from file:// may not script a frame of http://).
Usage: same_origin_proxy.py PORT UPSTREAM DRIVER_FILE"""
import http.server
import sys
import urllib.error
import urllib.request

PORT, UPSTREAM, DRIVER = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/driver.html":
            status, ctype, body = 200, "text/html; charset=utf-8", open(DRIVER, "rb").read()
        else:
            try:
                with urllib.request.urlopen(UPSTREAM + self.path, timeout=120) as r:
                    status, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
            except urllib.error.HTTPError as e:
                status, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
