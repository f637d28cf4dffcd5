#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compares src/export/otlp.proto, written by hand from opentelemetry-proto's published field
numbers, with a checkout of opentelemetry-proto: every field of ours must exist in the
published message of the same name with the same number, type and cardinality. Not run by CI
(nothing downloads there); run it by hand against a checkout at the tag otlp.proto cites:

    git clone https://github.com/open-telemetry/opentelemetry-proto && \\
        git -C opentelemetry-proto checkout v1.11.0
    python3 tests/tools/otlp_proto_check.py opentelemetry-proto

test_otlp's receiver decodes with Google's protobuf runtime but from otlp.proto itself, so a
wrong number would be shared by both sides; this is the check against the published text.
"""
import glob
import os
import re
import sys

FIELD = re.compile(r"(message|enum)\s+(\w+)\s*\{|\}|((?:repeated\s+|optional\s+)?[\w.]+)\s+(\w+)"
                   r"\s*=\s*(\d+)\s*[;\[]")


def fields(text):
    """(Message.Nested, field) -> (number, type's last name, repeated)."""
    text = re.sub(r"//[^\n]*", "", text)
    out, stack = {}, []
    for m in FIELD.finditer(text):
        if m.group(1):
            stack.append((m.group(1), m.group(2)))
        elif m.group(0) == "}":
            if stack:
                stack.pop()
        elif stack and stack[-1][0] == "message":
            key = (".".join(s[1] for s in stack), m.group(4))
            out[key] = (m.group(5), m.group(3).split()[-1].split(".")[-1], "repeated" in m.group(3))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    published = {}
    for sub in ("profiles", "collector/profiles", "common", "resource"):
        for f in glob.glob(os.path.join(sys.argv[1], "opentelemetry/proto", sub, "*/*.proto")):
            published.update(fields(open(f).read()))
    ours = fields(open(os.path.join(root, "src/export/otlp.proto")).read())
    bad = 0
    for key, v in sorted(ours.items()):
        p = published.get(key)
        if p != v:
            print(f"{key[0]}.{key[1]}: ours {v}, published {p}")
            bad += 1
    print(f"{len(ours)} fields of otlp.proto checked, {bad} differ")
    sys.exit(1 if bad or not ours else 0)


main()
