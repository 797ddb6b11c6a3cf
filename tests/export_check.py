#!/usr/bin/env python3
"""Check a `jitmm export` file as its consumer reads it.

  export_check.py bmf FILE     Bencher's published BMF JSON schema
                               (tests/fixtures/bmf.schema.json, with the
                               jsonschema package when installed) and its
                               limits: benchmark names <= 1024 characters,
                               measure slugs <= 64
  export_check.py gab FILE     github-action-benchmark's custom format: the
                               zod schema in its src/extract.ts (an array of
                               {name: string, value: number, unit: string,
                               range?: string, extra?: string}); it refuses an
                               empty array ("No benchmark result was found")
  export_check.py gbench FILE  Google Benchmark JSON as github-action-
                               benchmark's extractGoogleCppResult (name,
                               real_time, time_unit, iterations, cpu_time,
                               threads) and Bencher's cpp_google adapter
                               (context.caches an array; real_time a number;
                               time_unit ns/us/ms/s) read it
  export_check.py lnt FILE SCHEMA.yaml
                               LNT's import (lnt/server/db/testsuitedb.py
                               importDataFromDict, _getOrCreateRun,
                               _importSampleValues): format_version "2",
                               machine.name, ISO 8601 start/end times, the
                               suite's order field with numbers in it (else
                               convert_revision hashes it), every test metric
                               declared by the suite, Status samples in
                               {0 PASS, 1 FAIL, 2 XFAIL}

Exit 0 if the file passes, 1 with one line per problem, 2 on bad usage;
77 (skip) when a package the check needs is missing.
"""
import datetime
import json
import math
import re
import sys


def fail(problems):
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_bmf(doc):
    problems = []
    try:
        import jsonschema
        with open(sys.path[0] + "/fixtures/bmf.schema.json") as f:
            schema = json.load(f)
        for e in jsonschema.Draft7Validator(schema).iter_errors(doc):
            problems.append("schema: %s at %s" % (e.message, list(e.path)))
    except ImportError:
        print("# note: python3-jsonschema is not installed; checked by hand")
    if not isinstance(doc, dict) or not doc:
        return problems + ["not a non-empty object"]
    for name, measures in doc.items():
        if not name or len(name) > 1024:
            problems.append("benchmark name of %d characters (1..1024)" % len(name))
        if not isinstance(measures, dict) or not measures:
            problems.append("%s: no measures" % name)
            continue
        for slug, m in measures.items():
            if not slug or len(slug) > 64:
                problems.append("%s: measure '%s' longer than 64" % (name, slug))
            if not isinstance(m, dict) or not number(m.get("value")):
                problems.append("%s/%s: value is not a number" % (name, slug))
                continue
            for k in ("lower_value", "upper_value"):
                if k in m and not number(m[k]):
                    problems.append("%s/%s: %s is not a number" % (name, slug, k))
            if "lower_value" in m and "upper_value" in m and not (
                    m["lower_value"] <= m["value"] <= m["upper_value"]):
                problems.append("%s/%s: value outside [lower_value, upper_value]" % (name, slug))
    return problems


def check_gab(doc):
    if not isinstance(doc, list):
        return ["not an array"]
    if not doc:
        return ["empty: 'No benchmark result was found'"]
    problems, names = [], set()
    for i, e in enumerate(doc):
        if not isinstance(e, dict):
            problems.append("[%d]: not an object" % i)
            continue
        for k in ("name", "unit"):
            if not isinstance(e.get(k), str):
                problems.append("[%d]: %s is not a string" % (i, k))
        if not number(e.get("value")):
            problems.append("[%d]: value is not a number" % i)
        for k in ("range", "extra"):
            if k in e and not isinstance(e[k], str):
                problems.append("[%d]: %s is not a string" % (i, k))
        if e.get("name") in names:
            problems.append("[%d]: name '%s' twice" % (i, e.get("name")))
        names.add(e.get("name"))
    return problems


def check_gbench(doc):
    problems = []
    if not isinstance(doc, dict) or not isinstance(doc.get("context"), dict):
        return ["no context object"]
    if not isinstance(doc["context"].get("caches"), list):
        problems.append("context.caches is not an array (Bencher requires it)")
    bl = doc.get("benchmarks")
    if not isinstance(bl, list) or not bl:
        return problems + ["no benchmarks"]
    names = set()
    for i, b in enumerate(bl):
        if not isinstance(b.get("name"), str) or not b["name"]:
            problems.append("[%d]: name" % i)
        if b.get("name") in names:
            problems.append("[%d]: name '%s' twice" % (i, b.get("name")))
        names.add(b.get("name"))
        for k in ("real_time", "cpu_time", "iterations", "threads"):
            if not number(b.get(k)):
                problems.append("[%d]: %s is not a number" % (i, k))
        if b.get("time_unit") not in ("ns", "us", "ms", "s"):
            problems.append("[%d]: time_unit %r" % (i, b.get("time_unit")))
        if b.get("run_type") not in ("iteration", "aggregate"):
            problems.append("[%d]: run_type %r" % (i, b.get("run_type")))
        if b.get("error_occurred") is not None and (
                b["error_occurred"] is not True or not isinstance(b.get("error_message"), str)):
            problems.append("[%d]: error_occurred without an error_message" % i)
    return problems


def check_lnt(doc, schema_path):
    try:
        import yaml
    except ImportError:
        print("# skip: python3-yaml is not installed")
        sys.exit(77)
    with open(schema_path) as f:
        suite = yaml.safe_load(f)
    metrics = {m["name"]: m["type"] for m in suite["metrics"]}
    order = [r["name"] for r in suite.get("run_fields", []) if r.get("order")]
    problems = []
    if doc.get("format_version") != "2":
        problems.append("format_version is not \"2\"")
    machine, run = doc.get("machine", {}), doc.get("run", {})
    if not isinstance(machine.get("name"), str) or not machine["name"]:
        problems.append("machine.name")
    for k, v in machine.items():
        if not isinstance(v, str):
            problems.append("machine.%s is not a string" % k)
    for k in ("start_time", "end_time"):
        try:
            datetime.datetime.fromisoformat(run.get(k, ""))
        except ValueError:
            problems.append("run.%s %r is not ISO 8601" % (k, run.get(k)))
    for o in order:
        v = run.get(o)
        if not isinstance(v, str) or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", v):
            problems.append("run.%s %r: LNT orders by its numbers (convert_revision): "
                            "want a revision like 523456 or 19.1.0" % (o, v))
    names = set()
    for t in doc.get("tests", []):
        name = t.get("name")
        if not isinstance(name, str) or not name or name in names:
            problems.append("test name %r missing or twice" % name)
        names.add(name)
        for k, vals in t.items():
            if k == "name":
                continue
            if k not in metrics:
                problems.append("%s: Metric '%s' unknown in suite" % (name, k))
                continue
            vals = vals if isinstance(vals, list) else [vals]
            for v in vals:
                if metrics[k] == "Status" and v not in (0, 1, 2):
                    problems.append("%s: %s %r is not a status" % (name, k, v))
                elif metrics[k] == "Real" and not number(v):
                    problems.append("%s: %s %r is not a number" % (name, k, v))
    if not doc.get("tests"):
        problems.append("no tests")
    return problems


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("bmf", "gab", "gbench", "lnt"):
        print(__doc__)
        sys.exit(2)
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    if sys.argv[1] == "lnt":
        fail(check_lnt(doc, sys.argv[3]))
    fail({"bmf": check_bmf, "gab": check_gab, "gbench": check_gbench}[sys.argv[1]](doc))


main()
