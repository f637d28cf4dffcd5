#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for an OTLP/HTTP profiles receiver (the OpenTelemetry Collector's, or Grafana
Pyroscope's) in the end-to-end tests:

  POST /v1development/profiles   Content-Type application/x-protobuf,
                                 body: an ExportProfilesServiceRequest

Each body is decoded by Google's protobuf runtime (python3-protobuf), with Python classes that
protoc generates at start from the schema given (--proto): a decoder independent of
protobuf-c, which flamed encodes with. The request is then checked against the rules of
opentelemetry-proto v1.11.0's profiles.proto that a decoder does not enforce: every dictionary
table starts with its zero value (string_table[0] == ""), every index points into its table,
one sample type per profile, one value per sample. A request that breaks one is answered 400.

Each request appends one JSON line to DIR/requests.jsonl: the HTTP side (path, content type,
auth and tenant headers, size) and the decoded content: per resource its attributes and its
profile (sample and period types, period, time, duration, profile id, sample count and sum of
values), and the samples as folded stacks, root first, each frame "function file:line" (an
inlined callee after its caller, as a folded stack shows it) and the sample's attributes.

If DIR/status exists, its number is the HTTP status answered instead of 200.
"""
import argparse
import http.server
import importlib
import json
import os
import subprocess
import sys
from receiver_base import QuietHandler


def load_schema(proto, out):
    """Generates the Python module of the .proto into out and imports it."""
    subprocess.run(["protoc", f"--proto_path={os.path.dirname(os.path.abspath(proto))}",
                    f"--python_out={out}", os.path.basename(proto)], check=True)
    sys.path.insert(0, out)
    return importlib.import_module(os.path.basename(proto)[:-len(".proto")] + "_pb2")


def anyvalue(v):
    kind = v.WhichOneof("value")
    return None if kind is None else getattr(v, kind)


def decode(pb, body):
    req = pb.ExportProfilesServiceRequest()
    req.ParseFromString(body)
    d = req.dictionary
    errors = []

    def need(cond, what):
        if not cond:
            errors.append(what)
        return cond

    tables = {"mapping": d.mapping_table, "location": d.location_table,
              "function": d.function_table, "link": d.link_table, "string": d.string_table,
              "attribute": d.attribute_table, "stack": d.stack_table}
    for name, t in tables.items():
        if need(len(t) > 0, f"{name}_table is empty (index 0 must be present)"):
            zero = t[0]
            if name == "string":
                need(zero == "", "string_table[0] is not \"\"")
            elif name == "link":
                need(not any(zero.trace_id) and not any(zero.span_id), "link_table[0] not zero")
            else:
                need(zero.ByteSize() == 0, f"{name}_table[0] is not the zero value")
    if errors:
        raise ValueError("; ".join(errors))
    strs = d.string_table

    def s(i, what):
        if not need(0 <= i < len(strs), f"{what}: string index {i} of {len(strs)}"):
            return "?"
        return strs[i]

    def idx(i, table, what):
        return need(0 <= i < len(tables[table]), f"{what}: {table} index {i}")

    def attrs(indices, what):
        out = {}
        for a in indices:
            if idx(a, "attribute", what) and a:
                kv = d.attribute_table[a]
                key = s(kv.key_strindex, what)
                need(key not in out, f"{what}: attribute {key} twice")
                out[key] = anyvalue(kv.value)
        return out

    mappings = []
    for i, m in enumerate(d.mapping_table):
        mappings.append({"file": s(m.filename_strindex, f"mapping {i}"),
                         "attrs": attrs(m.attribute_indices, f"mapping {i}")})
    for i, f in enumerate(d.function_table):
        for fld in ("name_strindex", "system_name_strindex", "filename_strindex"):
            s(getattr(f, fld), f"function {i}")

    def frames(loc_i):
        """A location's frames, root side first: the physical function, then inlined callees."""
        loc = d.location_table[loc_i]
        idx(loc.mapping_index, "mapping", f"location {loc_i}")
        out = []
        for ln in reversed(loc.lines):
            if not idx(ln.function_index, "function", f"location {loc_i}"):
                continue
            f = d.function_table[ln.function_index]
            out.append(f"{strs[f.name_strindex]} {os.path.basename(strs[f.filename_strindex])}"
                       f":{ln.line}")
        if not out:
            out.append("0x%x" % loc.address)
        return out

    resources = []
    for rp in req.resource_profiles:
        res = {kv.key: anyvalue(kv.value) for kv in rp.resource.attributes}
        profiles = []
        for sp in rp.scope_profiles:
            for p in sp.profiles:
                samples = []
                for smp in p.samples:
                    need(len(smp.values) == 1, f"a sample with {len(smp.values)} values")
                    stack = []
                    if idx(smp.stack_index, "stack", "sample"):
                        for li in reversed(d.stack_table[smp.stack_index].location_indices):
                            if idx(li, "location", f"stack {smp.stack_index}"):
                                stack = stack + frames(li)
                    samples.append({"stack": ";".join(stack), "value": sum(smp.values),
                                    "attrs": attrs(smp.attribute_indices, "sample")})
                profiles.append({
                    "scope": sp.scope.name,
                    "sample_type": [s(p.sample_type.type_strindex, "sample_type"),
                                    s(p.sample_type.unit_strindex, "sample_type")],
                    "period_type": [s(p.period_type.type_strindex, "period_type"),
                                    s(p.period_type.unit_strindex, "period_type")],
                    "period": p.period,
                    "time_unix_nano": p.time_unix_nano,
                    "duration_nano": p.duration_nano,
                    "profile_id": p.profile_id.hex(),
                    "samples": samples,
                })
        resources.append({"attributes": res, "profiles": profiles})
    if errors:
        raise ValueError("; ".join(errors[:5]))
    return {"resources": resources, "mappings": mappings}


class Handler(QuietHandler):

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        rec = {
            "path": self.path,
            "content_type": self.headers.get("Content-Type", ""),
            "authorization": self.headers.get("Authorization", ""),
            "tenant": self.headers.get("X-Scope-OrgID", ""),
            "bytes": len(body),
        }
        if self.path != "/v1development/profiles":
            self.answer(404, "404 page not found\n")
            return
        try:
            rec.update(decode(self.server.pb, body))
        except Exception as e:  # the protobuf runtime's DecodeError, or a rule broken
            rec["error"] = f"{type(e).__name__}: {e}"
            self.log(rec)
            self.answer(400, f"bad request: {e}\n")
            return
        status = 200
        try:
            with open(os.path.join(self.server.dir, "status")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        if status != 200:
            rec["refused"] = True
        self.log(rec)
        # An empty ExportProfilesServiceResponse: the whole request was taken.
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log(self, rec):
        with open(os.path.join(self.server.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--proto", required=True, help="the schema: src/export/otlp.proto")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.dir, "schema"), exist_ok=True)
    srv = http.server.HTTPServer(("127.0.0.1", a.port), Handler)
    srv.pb = load_schema(a.proto, os.path.join(a.dir, "schema"))
    srv.dir = a.dir
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
