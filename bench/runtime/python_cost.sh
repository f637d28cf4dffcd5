#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF cost per sample of Python frames: tests/workloads/pydeep.py spinning DEPTH Python frames
# deep, one per CPU, profiled at once with --python on and off (bench/runtime/php_cost.sh,
# RUNTIME=python). Prints ns per profiled sample for each and the difference, medians over
# ROUNDS.
# Usage: [ROUNDS=5] [DEPTHS="10 50"] [PYTHON=/usr/bin/python3] bench/runtime/python_cost.sh [SECONDS]
RUNTIME=python DEPTHS=${DEPTHS:-10 50} exec bash "$(dirname "$0")/php_cost.sh" "$@"
