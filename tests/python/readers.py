#!/usr/bin/env python3
"""Real readers against real benchmark output.

    readers.py BENCHMARKS_DIR docs/analysts.md

BENCHMARKS_DIR is what `coopbench-aggregator merge --out` wrote, for one or
more rounds: `<table>/<round id>.parquet` and `manifests/<round id>.json`.

1. Runs every ```python block of the analysts' page (docs/analysts.md) with the
   global `BENCH` set to BENCHMARKS_DIR, as an analyst who copies it would.
   Every table a snippet loads into a variable named after it (`revenue`,
   `costs`, ...) must be the whole table: the rows the Parquet files hold,
   every column of the files, with the published types (`round` a string,
   `month` a date, money decimal(38,2), counts int64).
2. Reads every table the same way with polars, pyarrow, pandas and duckdb,
   with the same checks, plus: suppressed rows are null in every figure,
   intervals hold their estimate, member counts lie in [0, contributions],
   a dimension is null exactly where the round does not split by it.
3. Checks every file's footer key-value metadata against the manifest, and
   the manifest's data dictionary against every file's columns, types and
   field metadata (unit, description).

Prints each check; on any failure prints every failure and exits 1 (2 for
usage errors). Run by tests/it/readers.rs with the project venv
(tests/python/requirements.txt).
"""

import contextlib
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print(f"  FAIL {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)
    return bool(cond)


def die(msg, code=2):
    print(f"readers.py: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
except ImportError as e:  # pragma: no cover - the venv is incomplete
    die(
        f"cannot import a reader ({e}); install them with "
        "`.venv/bin/pip install -r tests/python/requirements.txt`"
    )

# The published figure columns (crates/benchmark/src/layout.rs TOTAL_COLUMNS, RATIO_COLUMNS).
TOTAL_COLUMNS = [
    "estimate",
    "noise_sd",
    "ci95_low",
    "ci95_high",
    "members_noisy",
    "mean_per_member",
    "mean_sd",
]
RATIO_COLUMNS = [
    f"{p}{s}" for p in ["p10", "p25", "p50", "p75", "p90", "mean"] for s in ["", "_ci95_low", "_ci95_high"]
] + ["bin_width", "members_noisy", "members_ci95_low", "members_ci95_high"]
# The verdict columns (Utf8) after the figures (publish.rs TOTAL_VERDICTS, RATIO_VERDICTS).
TOTAL_VERDICTS = ["verdict", "mean_verdict"]
RATIO_VERDICTS = [f"{p}_verdict" for p in ["p10", "p25", "p50", "p75", "p90", "mean", "members"]]

# Footer keys every file must carry (crates/aggregator/src/manifest.rs parquet_metadata).
FOOTER_KEYS = [
    "round_id",
    "pool_id",
    "purpose",
    "period_start",
    "period_end",
    "round_hash",
    "mode",
    "privacy_unit",
    "rho",
    "epsilon",
    "delta",
    "metric_rho",
    "contributions",
    "min_members",
    "toolkit_version",
    "schema_sales",
    "schema_costs",
    "metric",
    "kind",
    "description",
    "noise_sd",
    "members_noisy_source",
    "unit",
    "dimensions",
    "verdict_rule",
]

Z95 = 1.959963984540054


# --------------------------------------------------------------------------
# 1. The analysts' snippets
# --------------------------------------------------------------------------


def analyst_snippets(readme_text):
    """The ```python blocks of the section whose heading names analysts,
    up to the next heading of the same or a higher level, with their line
    numbers."""
    lines = readme_text.splitlines()
    start = level = None
    in_code = False
    for i, line in enumerate(lines):
        if re.match(r"^(```|~~~)", line):
            in_code = not in_code
            continue
        m = None if in_code else re.match(r"^(#{1,6})\s+(.*)$", line)
        if m and "analysts" in m.group(2).lower():
            start, level = i, len(m.group(1))
            break
    if start is None:
        die('the page has no heading naming analysts', 1)
    blocks = []
    fence = None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if fence is None:
            m = re.match(r"^(#{1,6})\s", line)
            if m and len(m.group(1)) <= level:
                break
            m = re.match(r"^(```+|~~~+)\s*(\S*)", line)
            if m:
                fence = (m.group(1), m.group(2).lower(), i + 1, [])
        else:
            if line.strip().startswith(fence[0]) and line.strip().strip(fence[0][0]) == "":
                if fence[1] == "python":
                    blocks.append((fence[2], "\n".join(fence[3])))
                fence = None
            else:
                fence[3].append(line)
    if fence is not None:
        die(f"line {fence[2]}: a code block is never closed", 1)
    return blocks


def frames_in(namespace):
    """(name, columns) of every table-like value a snippet left behind."""
    out = []
    for name, v in namespace.items():
        if name.startswith("_"):
            continue
        cols = None
        if isinstance(v, (pl.DataFrame, pd.DataFrame)):
            cols = list(v.columns)
        elif isinstance(v, pl.LazyFrame):
            cols = v.collect_schema().names()
        elif isinstance(v, (pa.Table, ds.Dataset)):
            cols = v.schema.names
        elif isinstance(v, duckdb.DuckDBPyRelation):
            cols = list(v.columns)
        if cols is not None:
            out.append((name, cols))
    return out


def run_snippets(bench, readme, truths):
    print(f"== the analysts' snippets ({readme})")
    loaded = set()
    blocks = analyst_snippets(Path(readme).read_text(encoding="utf-8"))
    if not check(blocks, "the analysts' page has no ```python block"):
        return
    used = set()
    for line, code in blocks:
        where = f"{Path(readme).name}:{line}"
        for lib, pat in [
            ("polars", r"\bimport polars\b"),
            ("pandas", r"\bimport pandas\b"),
            ("pyarrow", r"\bimport pyarrow\b"),
            ("duckdb", r"\bimport duckdb\b"),
        ]:
            if re.search(pat, code):
                used.add(lib)
        check("BENCH" in code, f"{where}: the snippet does not use BENCH")
        check(
            not re.search(r"^\s*BENCH\s*=", code, re.M),
            f"{where}: the snippet sets BENCH itself (the reader's path must come from outside)",
        )
        namespace = {"BENCH": str(bench), "__name__": "__readme__"}
        out = io.StringIO()
        try:
            compiled = compile(code, where, "exec")
            with contextlib.redirect_stdout(out):
                exec(compiled, namespace)
        except Exception:
            fail(f"{where}: the snippet raised\n{traceback.format_exc()}")
            continue
        printed = out.getvalue()
        print(f"-- {where}: ran; it printed {len(printed.splitlines())} lines:")
        for l in printed.splitlines()[:40]:
            print(f"   | {l}")
        frames = frames_in(namespace)
        check(frames or printed.strip(), f"{where}: the snippet neither printed nor built a table")
        for name, cols in frames:
            if "suppressed" in cols:
                check(
                    "round" in cols,
                    f"{where}: `{name}` holds a table without a `round` column: {cols}",
                )
        for name, value in namespace.items():
            lib = library_of(value)
            if lib and name in truths:
                check_frame(f"{where} `{name}`", lib, value, truths[name])
                loaded.add((lib, name))
    for lib in ["polars", "pandas", "pyarrow", "duckdb"]:
        check(lib in used, f"no snippet of the analysts' page imports {lib}")
        check(
            (lib, "revenue") in loaded,
            f"no snippet of the analysts' page loads the whole `revenue` table with {lib}",
        )


# --------------------------------------------------------------------------
# 2. The readers, table by table
# --------------------------------------------------------------------------

MONEY = "decimal(38,2)"


def tables_and_rounds(bench):
    """{table: [round ids]} from <table>/<round id>.parquet."""
    tables = {}
    for d in sorted(p for p in bench.iterdir() if p.is_dir()):
        if d.name == "manifests" or d.name.startswith("."):
            continue
        tables[d.name] = sorted(p.stem for p in d.glob("*.parquet") if p.is_file())
    return tables


def arrow_kind(t):
    """A type as the data dictionary names it."""
    if pa.types.is_dictionary(t):
        return "categorical"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_int64(t):
        return "int64"
    if pa.types.is_float64(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "boolean"
    return str(t)


def polars_kind(dt):
    if isinstance(dt, pl.Decimal):
        return f"decimal({dt.precision},{dt.scale})"
    return {pl.String: "string", pl.Date: "date", pl.Int64: "int64", pl.Float64: "float64", pl.Boolean: "boolean"}.get(
        dt, str(dt)
    )


def pandas_kind(dt):
    if isinstance(dt, pd.CategoricalDtype):
        return "categorical"
    if isinstance(dt, pd.ArrowDtype):
        return arrow_kind(dt.pyarrow_dtype)
    if isinstance(dt, pd.StringDtype):
        return "string"
    return str(dt)


def duckdb_kind(t):
    t = str(t)
    return {"VARCHAR": "string", "DATE": "date", "BIGINT": "int64", "DOUBLE": "float64", "BOOLEAN": "boolean"}.get(
        t, t.lower().replace(" ", "")
    )


def library_of(v):
    if isinstance(v, (pl.DataFrame, pl.LazyFrame)):
        return "polars"
    if isinstance(v, pd.DataFrame):
        return "pandas"
    if isinstance(v, (pa.Table, ds.Dataset)):
        return "pyarrow"
    if isinstance(v, duckdb.DuckDBPyRelation):
        return "duckdb"
    return None


def shape(lib, v):
    """(rows, [(column, kind)]) of a table a reader loaded."""
    if lib == "polars":
        df = v.collect() if isinstance(v, pl.LazyFrame) else v
        return df.height, [(c, polars_kind(t)) for c, t in df.schema.items()]
    if lib == "pandas":
        return len(v), [(c, pandas_kind(t)) for c, t in v.dtypes.items()]
    if lib == "pyarrow":
        n = v.count_rows() if isinstance(v, ds.Dataset) else v.num_rows
        return n, [(f.name, arrow_kind(f.type)) for f in v.schema]
    (n,) = v.aggregate("count(*)").fetchall()[0]
    return n, [(c, duckdb_kind(t)) for c, t in zip(v.columns, v.types)]


def truth(bench, table):
    """What the Parquet files of a table hold: rows, and columns with their
    types (all files must have the same)."""
    files = sorted((bench / table).glob("*.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    schemas = [pq.read_schema(f) for f in files]
    columns = [(f.name, arrow_kind(f.type)) for f in schemas[0]]
    for f, s in zip(files, schemas):
        got = [(x.name, arrow_kind(x.type)) for x in s]
        check(got == columns, f"{table}: {f.name} has columns {got}, {files[0].name} has {columns}")
    return {"rows": rows, "columns": columns, "files": files}


def check_frame(where, lib, value, want):
    """A whole table as a reader loaded it: every row, every column, the
    published types, `round` a string."""
    before = len(FAILURES)
    n, cols = shape(lib, value)
    check(n == want["rows"], f"{where} ({lib}): {n} rows, the Parquet files hold {want['rows']}")
    got = dict(cols)
    wanted = dict(want["columns"])
    dropped = [c for c in wanted if c not in got]
    check(not dropped, f"{where} ({lib}): columns dropped: {dropped}")
    extra = [c for c in got if c not in wanted]
    check(not extra, f"{where} ({lib}): columns no file has: {extra}")
    for c, kind in wanted.items():
        if c in got:
            check(got[c] == kind, f"{where} ({lib}): `{c}` is {got[c]}, the files say {kind}")
    check(got.get("round") == "string", f"{where} ({lib}): `round` is {got.get('round')}, not a string")
    if "month" in wanted:
        check(got.get("month") == "date", f"{where} ({lib}): `month` is {got.get('month')}, not a date")
    money = sorted(c for c, k in wanted.items() if k == MONEY)
    if len(FAILURES) == before:
        print(f"  ok {where} ({lib}): {n} rows, {len(got)} columns, month {got.get('month')}, money {got.get(money[0]) if money else '-'}")


# The calls docs/analysts.md gives, one per reader: each loads a whole table.
LOADERS = {
    "polars": lambda bench, t: pl.scan_parquet(f"{bench}/{t}/*.parquet"),
    "pyarrow": lambda bench, t: ds.dataset(f"{bench}/{t}", format="parquet").to_table(),
    "pandas": lambda bench, t: pd.read_parquet(f"{bench}/{t}", dtype_backend="pyarrow"),
    "duckdb": lambda bench, t: duckdb.sql(f"SELECT * FROM read_parquet('{bench}/{t}/*.parquet')"),
}


def check_content(bench, table, want, manifests):
    """What the figures must satisfy, read with polars."""
    where = f"content {table}"
    df = pl.read_parquet(f"{bench}/{table}/*.parquet")
    names = df.columns
    ratio = "p50" in names
    figs = RATIO_COLUMNS if ratio else TOTAL_COLUMNS
    verdicts = RATIO_VERDICTS if ratio else TOTAL_VERDICTS
    dims = [c for c in names if c not in figs and c not in verdicts and c not in ("round", "suppressed")]
    check(
        names == ["round"] + dims + figs + verdicts + ["suppressed"],
        f"{where}: columns {names}, expected round, the dimensions, {figs}, {verdicts}, suppressed",
    )
    f64 = {c: pl.col(c).cast(pl.Float64) for c in figs}
    sup = df.filter(pl.col("suppressed"))
    for f in figs:
        check(sup[f].null_count() == sup.height, f"{where}: `{f}` has a value in a suppressed row")
    for r, m in manifests.items():
        part = df.filter(pl.col("round") == r)
        if m is None or part.height == 0:
            continue
        n = m.get("contributions", {}).get("accepted")
        split = [d for d in (pq.read_metadata(bench / table / f"{r}.parquet").metadata or {}).get(b"dimensions", b"").decode().split(",") if d]
        for d in dims:
            nulls = part[d].null_count()
            if d in split:
                check(nulls == 0, f"{where} round {r}: `{d}` is null in {nulls} rows, the round splits by it")
            else:
                check(nulls == part.height, f"{where} round {r}: `{d}` has a label, the round does not split by it")
        if "month" in split:
            days = part["month"].dt.day().unique().to_list()
            check(days == [1], f"{where} round {r}: months are not first days: {days}")
        members = [c for c in names if c == "members_noisy" or c.startswith("members_ci95")]
        for c in members:
            bad = part.filter((pl.col(c) < 0) | (pl.col(c) > n))
            check(bad.height == 0, f"{where} round {r}: `{c}` outside [0, {n} contributions]:\n{bad}")
    pub = df.filter(~pl.col("suppressed"))
    if not ratio and pub.height:
        for f in ["estimate", "noise_sd", "ci95_low", "ci95_high"]:
            check(pub[f].null_count() == 0, f"{where}: `{f}` is null in a published row")
        # Money is rounded to cents, whole numbers' ends outwards to integers.
        slack = 2.0 if df.schema["estimate"] == pl.Int64 else 0.02
        width = f64["ci95_high"] - f64["ci95_low"]
        bad = pub.filter(
            (f64["noise_sd"] <= 0)
            | (f64["ci95_low"] > f64["estimate"])
            | (f64["ci95_high"] < f64["estimate"])
            | ((width - 2 * Z95 * f64["noise_sd"]).abs() > 1e-6 * f64["noise_sd"] + slack)
        )
        check(bad.height == 0, f"{where}: rows whose interval is not estimate ± 1.96·noise_sd:\n{bad}")
    if ratio and pub.height:
        for f in RATIO_COLUMNS:
            check(pub[f].null_count() == 0, f"{where}: `{f}` is null in a published row")
        bad = pub.filter(
            (f64["p10"] > f64["p25"])
            | (f64["p25"] > f64["p50"])
            | (f64["p50"] > f64["p75"])
            | (f64["p75"] > f64["p90"])
            | (f64["bin_width"] <= 0)
        )
        check(bad.height == 0, f"{where}: percentiles out of order or no bin width:\n{bad}")
    print(f"  ok {where}: {df.height} rows ({sup.height} suppressed), dims {dims}")


# --------------------------------------------------------------------------
# 3. The footer's key-value metadata, the manifest and its data dictionary
# --------------------------------------------------------------------------


def as_float(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def check_footer(bench, table, round_id, manifest):
    path = bench / table / f"{round_id}.parquet"
    where = f"footer {path.relative_to(bench)}"
    meta = pq.read_metadata(path)
    kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
    missing = [k for k in FOOTER_KEYS if k not in kv]
    check(not missing, f"{where}: key-value metadata lacks {missing} (has {sorted(kv)})")
    rounds = pq.read_table(path, columns=["round"])["round"].unique().to_pylist()
    check(rounds == [round_id], f"{where}: the `round` column holds {rounds}, the file name says {round_id!r}")
    check(kv.get("round_id") == round_id, f"{where}: round_id {kv.get('round_id')!r}, the file name says {round_id!r}")
    check(kv.get("metric") == table, f"{where}: metric {kv.get('metric')!r}, directory says {table!r}")
    for k in ["rho", "epsilon", "delta", "metric_rho", "noise_sd"]:
        v = as_float(kv.get(k))
        check(v is not None and math.isfinite(v) and v > 0, f"{where}: {k} = {kv.get(k)!r} is not a positive number")
    check(kv.get("toolkit_version", "").startswith("coopbench "), f"{where}: toolkit_version {kv.get('toolkit_version')!r}")
    check(kv.get("privacy_unit") == "member", f"{where}: privacy_unit {kv.get('privacy_unit')!r}")
    check(kv.get("kind") in {"sum", "count", "active", "ratio"}, f"{where}: kind {kv.get('kind')!r}")
    if manifest is not None:
        priv = manifest.get("privacy", {})
        rnd = manifest.get("round", {})
        for k, want in [("rho", priv.get("rho")), ("epsilon", priv.get("epsilon")), ("delta", priv.get("delta"))]:
            got = as_float(kv.get(k))
            check(
                got is not None and want is not None and math.isclose(got, want, rel_tol=1e-12),
                f"{where}: {k} = {kv.get(k)!r}, the manifest says {want!r}",
            )
        check(kv.get("toolkit_version") == manifest.get("toolkit_version"), f"{where}: toolkit_version differs from the manifest's")
        check(kv.get("contributions") == str(manifest.get("contributions", {}).get("accepted")), f"{where}: contributions {kv.get('contributions')!r}, the manifest accepted {manifest.get('contributions', {}).get('accepted')!r}")
        check(kv.get("pool_id") == rnd.get("pool_id"), f"{where}: pool_id differs from the manifest's")
        check(kv.get("mode") == rnd.get("mode"), f"{where}: mode differs from the manifest's")
        check(kv.get("schema_sales") == rnd.get("schemas", {}).get("sales"), f"{where}: schema_sales differs from the manifest's")
        check(kv.get("schema_costs") == rnd.get("schemas", {}).get("costs"), f"{where}: schema_costs differs from the manifest's")
        facts = [t for t in manifest.get("tables", []) if t.get("name") == table]
        if check(len(facts) == 1, f"{where}: the manifest lists table {table!r} {len(facts)} times"):
            fact = facts[0]
            check(fact.get("path") == f"{table}/{round_id}.parquet", f"{where}: the manifest's path is {fact.get('path')!r}")
            check(fact.get("rows") == meta.num_rows, f"{where}: {meta.num_rows} rows, the manifest says {fact.get('rows')}")
            check(fact.get("kind") == kv.get("kind"), f"{where}: kind differs from the manifest's")
            check(fact.get("unit") == kv.get("unit"), f"{where}: unit {kv.get('unit')!r}, the manifest says {fact.get('unit')!r}")
            check_dictionary(where, path, fact)
    # The same facts through the other readers.
    pl_kv = pl.read_parquet_metadata(str(path))
    check(pl_kv.get("round_id") == round_id, f"{where}: polars' read_parquet_metadata sees round_id {pl_kv.get('round_id')!r}")
    duck_kv = dict(duckdb.sql(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{path}')").fetchall())
    check(duck_kv.get("rho") == kv.get("rho"), f"{where}: duckdb's parquet_kv_metadata sees rho {duck_kv.get('rho')!r}")
    print(f"  ok {where}: round_id={kv.get('round_id')} unit={kv.get('unit')!r} dimensions={kv.get('dimensions')!r}")


def check_dictionary(where, path, fact):
    """The manifest's data dictionary describes every column of the file, in
    order, with its type, and agrees with the field metadata."""
    schema = pq.read_schema(path)
    entries = fact.get("columns", [])
    names = [e.get("name") for e in entries]
    check(names == schema.names, f"{where}: the dictionary lists {names}, the file has {schema.names}")
    figures = set(RATIO_COLUMNS) | set(TOTAL_COLUMNS)
    for e in entries:
        name = e.get("name")
        if name not in schema.names:
            continue
        field = schema.field(name)
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        check(e.get("type") == arrow_kind(field.type), f"{where}: `{name}` is {arrow_kind(field.type)}, the dictionary says {e.get('type')}")
        check(len(e.get("description", "")) > 10, f"{where}: `{name}` has no description in the dictionary")
        check(meta.get("description") == e.get("description"), f"{where}: `{name}`'s field metadata description differs from the dictionary's")
        check(meta.get("unit", "") == e.get("unit", ""), f"{where}: `{name}`'s field metadata unit {meta.get('unit')!r}, the dictionary says {e.get('unit')!r}")
        if name in figures:
            check(e.get("unit"), f"{where}: figure `{name}` has no unit")
        if e.get("type") == MONEY:
            check(e.get("unit", "").startswith(fact.get("unit", "?").split(" ")[0]), f"{where}: money `{name}` in {e.get('unit')!r}")
        if "verdict" in name:
            check("suppressed" in e.get("description", ""), f"{where}: `{name}`'s description does not name the verdicts")
        if name == "suppressed" or name in ("month", "category", "channel", "cost_type"):
            check("null" in e.get("description", ""), f"{where}: `{name}`'s description does not say what null means")


def check_manifest(bench, round_id, tables):
    path = bench / "manifests" / f"{round_id}.json"
    where = f"manifest {path.relative_to(bench)}"
    if not check(path.is_file(), f"{where}: missing"):
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        fail(f"{where}: not JSON: {e}")
        return None
    check(m.get("round", {}).get("id") == round_id, f"{where}: round id {m.get('round', {}).get('id')!r}")
    stmt = m.get("privacy", {}).get("statement", "")
    check(len(stmt) > 40, f"{where}: no privacy statement")
    listed = sorted(t.get("name") for t in m.get("tables", []))
    present = sorted(t for t, rs in tables.items() if round_id in rs)
    check(listed == present, f"{where}: lists tables {listed}, the directories hold {present}")
    print(f"  ok {where}: {m.get('contributions', {}).get('accepted')} contributions accepted, tables {listed}")
    return m


def main(argv):
    if len(argv) != 3:
        die("usage: readers.py BENCHMARKS_DIR docs/analysts.md")
    bench = Path(argv[1]).resolve()
    readme = Path(argv[2])
    if not bench.is_dir():
        die(f"{bench}: not a directory")
    if not readme.is_file():
        die(f"{readme}: not a file")
    print(
        f"readers: polars {pl.__version__}, pyarrow {pa.__version__}, pandas {pd.__version__}, "
        f"duckdb {duckdb.__version__}; benchmarks {bench}"
    )
    tables = tables_and_rounds(bench)
    if not tables or not any(tables.values()):
        die(f"{bench} holds no <table>/<round>.parquet", 1)
    rounds = sorted({r for rs in tables.values() for r in rs})
    truths = {t: truth(bench, t) for t, rs in tables.items() if rs}

    run_snippets(bench, readme, truths)

    print("== manifests")
    manifests = {r: check_manifest(bench, r, tables) for r in rounds}
    print("== readers, table by table")
    for table, want in truths.items():
        for lib, load in LOADERS.items():
            try:
                check_frame(f"{table}", lib, load(bench, table), want)
            except Exception:
                fail(f"{lib} {table}: raised\n{traceback.format_exc()}")
        try:
            check_content(bench, table, want, manifests)
        except Exception:
            fail(f"content {table}: raised\n{traceback.format_exc()}")
        print(f"  ok {table}: {want['rows']} rows in {len(want['files'])} files, read whole by {', '.join(LOADERS)}")
    print("== footer key-value metadata and the data dictionary")
    for table, rs in tables.items():
        for r in rs:
            try:
                check_footer(bench, table, r, manifests.get(r))
            except Exception:
                fail(f"footer {table}/{r}.parquet: raised\n{traceback.format_exc()}")

    if FAILURES:
        print(f"\nreaders: {len(FAILURES)} failure(s):", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(f"\nreaders: all checks passed ({len(tables)} tables, rounds {rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
