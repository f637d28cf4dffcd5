#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for a Pyroscope server in the end-to-end tests (no Pyroscope server can be
installed here). It takes both ingest APIs flamed speaks:

  POST /ingest?name=SERVICE{k=v,...}&from=S&until=S&format=pprof   body: the pprof
  POST /push.v1.PusherService/Push   Content-Type application/proto, body: a PushRequest

and for each request appends one JSON line to DIR/requests.jsonl (api, labels, from/until, the
profile ID, headers that matter) and writes the pprof it carried to DIR/NNNN.pb.gz, for the
test to decode with go tool pprof, with the profile's time_nanos and duration_nanos (the
window's span) in the JSON line. The PushRequest is decoded by hand from its field numbers
(series=1{labels=1{name=1,value=2}, samples=2{raw_profile=1, ID=2}}), strictly: any other field
or wire type is an error (HTTP 400), as a real server would refuse it.

If DIR/status exists, its number is the HTTP status answered instead of 200 (the request is
still logged, with "refused": true). Like a Pyroscope server with default limits, it answers 400
to a profile of more than 16,000 samples or that started more than an hour ago (--max-samples,
--max-age), and logs each profile's sample count, total and numeric label keys.
"""
import argparse
import gzip
import http.server
import json
import os
import ssl
import sys
import time
import urllib.parse
from receiver_base import QuietHandler


def varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(buf):
    """Yields (field number, bytes) of a message whose fields are all length-delimited."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire != 2:
            raise ValueError(f"field {num}: wire type {wire}, expected 2")
        n, i = varint(buf, i)
        if i + n > len(buf):
            raise ValueError(f"field {num}: truncated")
        yield num, buf[i:i + n]
        i += n


def any_fields(buf, what):
    """Yields (field number, wire type, value: int or bytes) of a message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            if i + n > len(buf):
                raise ValueError(f"{what}: field {num} truncated")
            v, i = buf[i:i + n], i + n
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            v, i = int.from_bytes(buf[i:i + n], "little"), i + n
        else:
            raise ValueError(f"{what}: wire type {wire}")
        yield num, wire, v
    if i != len(buf):
        raise ValueError(f"{what}: truncated")


def packed(v):
    """Varints of a packed repeated field (or one unpacked value)."""
    if isinstance(v, int):
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def pprof_facts(data):
    """What a Pyroscope server checks of a pprof Profile, gzipped or not: time_nanos (9),
    duration_nanos (10), the number of samples (2), the sum of their first values, and the
    label keys carrying a number (Pyroscope keeps only string labels)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    out = {"time_nanos": 0, "duration_nanos": 0, "samples": 0, "total": 0}
    strings, num_keys = [], set()
    for num, wire, v in any_fields(data, "pprof"):
        if num == 9 and wire == 0:
            out["time_nanos"] = v
        elif num == 10 and wire == 0:
            out["duration_nanos"] = v
        elif num == 6 and wire == 2:
            strings.append(v.decode("utf-8", "replace"))
        elif num == 2 and wire == 2:
            out["samples"] += 1
            for n2, w2, v2 in any_fields(v, "Sample"):
                if n2 == 2:
                    vals = packed(v2)
                    out["total"] += vals[0] if vals else 0
                elif n2 == 3 and w2 == 2:
                    label = {n3: v3 for n3, _, v3 in any_fields(v2, "Label")}
                    if label.get(3):
                        num_keys.add(label.get(1, 0))
    out["numeric_labels"] = sorted(strings[k] if k < len(strings) else str(k) for k in num_keys)
    return out


def decode_push(body):
    series = []
    for num, s in fields(body):
        if num != 1:
            raise ValueError(f"PushRequest: unknown field {num}")
        labels, samples = [], []
        for num2, v in fields(s):
            if num2 == 1:
                pair = {1: b"", 2: b""}
                for num3, x in fields(v):
                    if num3 not in pair:
                        raise ValueError(f"LabelPair: unknown field {num3}")
                    pair[num3] = x
                labels.append((pair[1].decode(), pair[2].decode()))
            elif num2 == 2:
                sample = {1: b"", 2: b""}
                for num3, x in fields(v):
                    if num3 not in sample:
                        raise ValueError(f"RawSample: unknown field {num3}")
                    sample[num3] = x
                samples.append((sample[1], sample[2].decode()))
            else:
                raise ValueError(f"RawProfileSeries: unknown field {num2}")
        series.append((labels, samples))
    return series


def parse_name(name):
    """SERVICE{k=v,k=v} -> (SERVICE, {k: v})"""
    if "{" not in name or not name.endswith("}"):
        return name, {}
    service, rest = name.split("{", 1)
    labels = {}
    for kv in filter(None, rest[:-1].split(",")):
        k, v = kv.split("=", 1)
        labels[k] = v
    return service, labels


class Handler(QuietHandler):

    def do_POST(self):
        d = self.server.dir
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        url = urllib.parse.urlsplit(self.path)
        rec = {
            "path": url.path,
            "content_type": self.headers.get("Content-Type", ""),
            "authorization": self.headers.get("Authorization", ""),
            "tenant": self.headers.get("X-Scope-OrgID", ""),
            "connect_version": self.headers.get("Connect-Protocol-Version", ""),
            "bytes": len(body),
        }
        try:
            if url.path == "/ingest":
                q = urllib.parse.parse_qs(url.query, strict_parsing=True)
                rec["api"] = "ingest"
                rec["query"] = {k: v[0] for k, v in q.items()}
                service, labels = parse_name(rec["query"]["name"])
                rec["service"] = service
                rec["labels"] = labels
                profile = body
            elif url.path == "/push.v1.PusherService/Push":
                series = decode_push(body)
                if not series or any(len(smp) != 1 for _, smp in series):
                    raise ValueError("expected series of one sample each")
                if len(series) > 1:
                    # --group-by: a series per group, each a pprof of its own.
                    rec["series"] = [dict(pprof_facts(smp[0][0]), labels=dict(lab),
                                          id=smp[0][1], raw=smp[0][0].hex())
                                     for lab, smp in series]
                labels, samples = series[0]
                rec["api"] = "connect"
                rec["label_order"] = [k for k, _ in labels]
                rec["labels"] = dict(labels)
                rec["service"] = rec["labels"].get("service_name", "")
                profile, rec["id"] = samples[0]
            else:
                self.answer(404, "404 page not found\n")
                return
        except (ValueError, KeyError, UnicodeDecodeError, OSError, EOFError) as e:
            rec["error"] = str(e)
            self.log(rec)
            self.answer(400, f"bad request: {e}\n")
            return
        try:
            rec.update(pprof_facts(profile))
        except (ValueError, OSError, EOFError) as e:
            rec["error"] = f"not a pprof: {e}"
            self.log(rec)
            self.answer(400, f"bad profile: {e}\n")
            return
        # Pyroscope's validation defaults (pkg/validation: max_profile_stacktrace_samples
        # 16000, reject_older_than 1h): such a profile is answered 400, its window lost.
        limit, max_age = self.server.max_samples, self.server.max_age
        most = max([rec["samples"]] + [x["samples"] for x in rec.get("series", [])])
        if limit and most > limit:
            rec["error"] = (f"exceeds the samples count limit (max_profile_stacktrace_samples, "
                            f"actual: {most}, limit: {limit})")
        elif max_age and rec["time_nanos"] < (time.time() - max_age) * 1e9:
            rec["error"] = "profile too old (reject_older_than)"
        if "error" in rec:
            self.log(rec)
            self.answer(400, rec["error"] + "\n")
            return
        status = 200
        try:
            with open(os.path.join(d, "status")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        self.server.count += 1
        rec["n"] = self.server.count
        rec["profile"] = os.path.join(d, f"{self.server.count:04d}.pb.gz")
        with open(rec["profile"], "wb") as f:
            f.write(profile)
        for k, x in enumerate(rec.get("series", [])):
            x["profile"] = os.path.join(d, f"{self.server.count:04d}.series{k}.pprof")
            with open(x["profile"], "wb") as f:
                f.write(bytes.fromhex(x.pop("raw")))
        if status != 200:
            rec["refused"] = True
        self.log(rec)
        self.answer(status, "" if status == 200 else f"status {status} by request\n")

    def log(self, rec):
        with open(os.path.join(self.server.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    ap.add_argument("--tls-key", help="and this key")
    ap.add_argument("--max-samples", type=int, default=16000,
                    help="answer 400 to a profile with more samples (0: no limit)")
    ap.add_argument("--max-age", type=int, default=3600,
                    help="answer 400 to a profile that started longer ago (0: no limit)")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    srv = http.server.HTTPServer(("127.0.0.1", a.port), Handler)
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.dir = a.dir
    srv.max_samples, srv.max_age = a.max_samples, a.max_age
    # A restarted receiver numbers its files after the ones already there.
    srv.count = len([f for f in os.listdir(a.dir) if f.endswith(".pb.gz")])
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
