#!/usr/bin/env python3
"""Real readers against real benchmark output.

    readers.py BENCHMARKS_DIR docs/analysts.md

BENCHMARKS_DIR is what `coopbench-aggregator merge --out` wrote:
`<table>/round=<id>/data.parquet` and `manifests/<id>.json`.

1. Runs every ```python block of the analysts' page (docs/analysts.md) with the
   global `BENCH` set to BENCHMARKS_DIR, as an analyst who copies it would.
2. Checks, with polars, pyarrow (pq.read_table and pyarrow.dataset), pandas and
   duckdb, that every table reads with hive partitioning into a `round` column,
   with the published dtypes (dimensions Utf8, figures Float64, `suppressed`
   Boolean), that suppressed rows are null in every figure, and that every
   file's footer key-value metadata holds the round's facts and agrees with
   the manifest.

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

# The published columns (crates/aggregator/src/publish.rs TOTAL_COLUMNS, RATIO_COLUMNS).
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


def run_snippets(bench, readme):
    print(f"== the analysts' snippets ({readme})")
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
    for lib in ["polars", "pandas", "pyarrow", "duckdb"]:
        check(lib in used, f"no snippet of the analysts' page imports {lib}")


# --------------------------------------------------------------------------
# 2. The readers, table by table
# --------------------------------------------------------------------------


def tables_and_rounds(bench):
    tables = {}
    for d in sorted(p for p in bench.iterdir() if p.is_dir()):
        if d.name == "manifests" or d.name.startswith("."):
            continue
        rounds = sorted(
            p.name[len("round="):]
            for p in d.iterdir()
            if p.is_dir() and p.name.startswith("round=") and (p / "data.parquet").is_file()
        )
        tables[d.name] = rounds
    return tables


def expected_layout(columns):
    """(kind, dims, figures) from a column list without `round`."""
    if "p50" in columns:
        kind, figs, verdicts = "ratio", RATIO_COLUMNS, RATIO_VERDICTS
    else:
        kind, figs, verdicts = "total", TOTAL_COLUMNS, TOTAL_VERDICTS
    dims = [c for c in columns if c not in figs and c not in verdicts and c != "suppressed"]
    return kind, dims, figs


def check_polars(bench, table, rounds):
    lf = pl.scan_parquet(f"{bench}/{table}/**/*.parquet", hive_partitioning=True)
    schema = lf.collect_schema()
    names = schema.names()
    where = f"polars {table}"
    if not check("round" in names, f"{where}: no `round` column from hive partitioning: {names}"):
        return None
    check(schema["round"] == pl.String, f"{where}: `round` is {schema['round']}, not String")
    inner = [c for c in names if c != "round"]
    kind, dims, figs = expected_layout(inner)
    check(
        inner == dims + figs + (RATIO_VERDICTS if kind == "ratio" else TOTAL_VERDICTS) + ["suppressed"],
        f"{where}: columns {inner}, expected the dimensions, then {figs}, then suppressed",
    )
    for d in dims:
        check(schema[d] == pl.String, f"{where}: dimension `{d}` is {schema[d]}, not String (Utf8)")
    for f in figs:
        if f in schema:
            check(schema[f] == pl.Float64, f"{where}: `{f}` is {schema[f]}, not Float64")
    check(schema.get("suppressed") == pl.Boolean, f"{where}: `suppressed` is {schema.get('suppressed')}, not Boolean")
    df = lf.collect()
    check(df.height > 0, f"{where}: no rows")
    check(
        sorted(df["round"].unique().to_list()) == rounds,
        f"{where}: round values {sorted(df['round'].unique().to_list())}, directories say {rounds}",
    )
    present = [f for f in figs if f in df.columns]
    sup = df.filter(pl.col("suppressed"))
    for f in present:
        check(
            sup[f].null_count() == sup.height,
            f"{where}: `{f}` has a value in a suppressed row",
        )
    pub = df.filter(~pl.col("suppressed"))
    if kind == "total" and pub.height:
        for f in ["estimate", "noise_sd", "ci95_low", "ci95_high"]:
            check(pub[f].null_count() == 0, f"{where}: `{f}` is null in a published row")
        bad = pub.filter(
            (pl.col("noise_sd") <= 0)
            | (pl.col("ci95_low") > pl.col("estimate"))
            | (pl.col("ci95_high") < pl.col("estimate"))
            | (
                (pl.col("ci95_high") - pl.col("ci95_low") - 2 * Z95 * pl.col("noise_sd")).abs()
                > 1e-6 * pl.col("noise_sd")
            )
        )
        check(bad.height == 0, f"{where}: rows whose interval is not estimate ± 1.96·noise_sd:\n{bad}")
    if kind == "ratio" and pub.height:
        for f in RATIO_COLUMNS:
            check(pub[f].null_count() == 0, f"{where}: `{f}` is null in a published row")
        bad = pub.filter(
            (pl.col("p10") > pl.col("p25"))
            | (pl.col("p25") > pl.col("p50"))
            | (pl.col("p50") > pl.col("p75"))
            | (pl.col("p75") > pl.col("p90"))
            | (pl.col("bin_width") <= 0)
        )
        check(bad.height == 0, f"{where}: percentiles out of order or no bin width:\n{bad}")
    print(
        f"  ok {where}: {df.height} rows ({sup.height} suppressed), {kind} table, "
        f"dims {dims}, round {rounds}"
    )
    return df.height


def arrow_is_string(t):
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def check_pyarrow(bench, table, rows):
    where = f"pyarrow {table}"
    t = pq.read_table(f"{bench}/{table}", partitioning="hive")
    d = ds.dataset(f"{bench}/{table}", format="parquet", partitioning="hive")
    for what, schema, n in [
        ("pq.read_table", t.schema, t.num_rows),
        ("pyarrow.dataset", d.schema, d.count_rows()),
    ]:
        w = f"{where} ({what})"
        if not check("round" in schema.names, f"{w}: no `round` column: {schema.names}"):
            continue
        check(arrow_is_string(schema.field("round").type), f"{w}: `round` is {schema.field('round').type}")
        kind, dims, figs = expected_layout([c for c in schema.names if c != "round"])
        for c in dims:
            check(arrow_is_string(schema.field(c).type), f"{w}: dimension `{c}` is {schema.field(c).type}")
        for c in figs:
            if c in schema.names:
                check(pa.types.is_float64(schema.field(c).type), f"{w}: `{c}` is {schema.field(c).type}")
        check(pa.types.is_boolean(schema.field("suppressed").type), f"{w}: `suppressed` is {schema.field('suppressed').type}")
        check(n == rows, f"{w}: {n} rows, polars read {rows}")
    print(f"  ok {where}: pq.read_table and pyarrow.dataset give `round`, {t.num_rows} rows")


def check_pandas(bench, table, rows):
    where = f"pandas {table}"
    df = pd.read_parquet(f"{bench}/{table}")
    if not check("round" in df.columns, f"{where}: no `round` column: {list(df.columns)}"):
        return
    check(len(df) == rows, f"{where}: {len(df)} rows, polars read {rows}")
    kind, dims, figs = expected_layout([c for c in df.columns if c != "round"])
    for c in figs:
        if c in df.columns:
            check(str(df[c].dtype) == "float64", f"{where}: `{c}` is {df[c].dtype}, not float64")
    check(str(df["suppressed"].dtype) == "bool", f"{where}: `suppressed` is {df['suppressed'].dtype}, not bool")
    sup = df[df["suppressed"]]
    for c in figs:
        if c in df.columns:
            check(sup[c].isna().all(), f"{where}: `{c}` has a value in a suppressed row")
    print(f"  ok {where}: pd.read_parquet gives `round` ({df['round'].dtype}), {len(df)} rows")


DUCK_TYPES = {"VARCHAR", "DOUBLE", "BOOLEAN"}


def check_duckdb(bench, table, rows):
    where = f"duckdb {table}"
    con = duckdb.connect()
    src = f"read_parquet('{bench}/{table}/*/*.parquet', hive_partitioning = true)"
    desc = {r[0]: r[1] for r in con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if not check("round" in desc, f"{where}: no `round` column: {list(desc)}"):
        return
    check(desc["round"] == "VARCHAR", f"{where}: `round` is {desc['round']}, not VARCHAR")
    kind, dims, figs = expected_layout([c for c in desc if c != "round"])
    for c in dims:
        check(desc[c] == "VARCHAR", f"{where}: dimension `{c}` is {desc[c]}")
    for c in figs:
        if c in desc:
            check(desc[c] == "DOUBLE", f"{where}: `{c}` is {desc[c]}")
    check(desc.get("suppressed") == "BOOLEAN", f"{where}: `suppressed` is {desc.get('suppressed')}")
    (n,) = con.sql(f"SELECT count(*) FROM {src}").fetchall()[0]
    check(n == rows, f"{where}: {n} rows, polars read {rows}")
    figs_present = [c for c in figs if c in desc]
    (leak,) = con.sql(
        f"SELECT count(*) FROM {src} WHERE suppressed AND NOT ("
        + " AND ".join(f'"{c}" IS NULL' for c in figs_present)
        + ")"
    ).fetchall()[0]
    check(leak == 0, f"{where}: {leak} suppressed rows with a figure")
    print(f"  ok {where}: read_parquet(..., hive_partitioning = true) gives `round`, {n} rows")


# --------------------------------------------------------------------------
# 3. The footer's key-value metadata and the manifest
# --------------------------------------------------------------------------


def as_float(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def check_footer(bench, table, round_id, manifest):
    path = bench / table / f"round={round_id}" / "data.parquet"
    where = f"footer {path.relative_to(bench)}"
    meta = pq.read_metadata(path)
    kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
    missing = [k for k in FOOTER_KEYS if k not in kv]
    check(not missing, f"{where}: key-value metadata lacks {missing} (has {sorted(kv)})")
    check("round" not in pq.read_schema(path).names, f"{where}: the file has a `round` column inside")
    check(kv.get("round_id") == round_id, f"{where}: round_id {kv.get('round_id')!r}, directory says {round_id!r}")
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
        for k, want in [
            ("rho", priv.get("rho")),
            ("epsilon", priv.get("epsilon")),
            ("delta", priv.get("delta")),
        ]:
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
            check(facts[0].get("path") == f"{table}/round={round_id}/data.parquet", f"{where}: the manifest's path is {facts[0].get('path')!r}")
            check(facts[0].get("rows") == meta.num_rows, f"{where}: {meta.num_rows} rows, the manifest says {facts[0].get('rows')}")
            check(facts[0].get("kind") == kv.get("kind"), f"{where}: kind differs from the manifest's")
    # The same facts through the other readers: the footer's metadata, not
    # only arrow's schema metadata.
    pl_kv = pl.read_parquet_metadata(str(path))
    check(pl_kv.get("round_id") == round_id, f"{where}: polars' read_parquet_metadata sees round_id {pl_kv.get('round_id')!r}")
    duck_kv = dict(
        duckdb.sql(
            f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{path}')"
        ).fetchall()
    )
    check(duck_kv.get("rho") == kv.get("rho"), f"{where}: duckdb's parquet_kv_metadata sees rho {duck_kv.get('rho')!r}")
    print(
        f"  ok {where}: round_id={kv.get('round_id')} rho={kv.get('rho')} epsilon={kv.get('epsilon')} "
        f"delta={kv.get('delta')} {kv.get('toolkit_version')} schemas {kv.get('schema_sales')}/{kv.get('schema_costs')}"
    )


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


# --------------------------------------------------------------------------
# 4. The analysts' page's advice for round ids that look like numbers
# --------------------------------------------------------------------------


def check_numeric_round_advice(bench, table, round_id):
    """A round directory `round=2025` is inferred as an integer by every
    reader; the typed forms docs/analysts.md gives keep it a string."""
    src = bench / table / f"round={round_id}" / "data.parquet"
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / table / "round=2025"
        dst.mkdir(parents=True)
        shutil.copyfile(src, dst / "data.parquet")
        root = Path(tmp) / table
        where = "numeric round id"
        got = pl.scan_parquet(
            f"{root}/**/*.parquet", hive_partitioning=True, hive_schema={"round": pl.String}
        ).collect_schema()["round"]
        check(got == pl.String, f"{where}: polars with hive_schema gives {got}")
        part = ds.partitioning(pa.schema([("round", pa.string())]), flavor="hive")
        got = ds.dataset(str(root), format="parquet", partitioning=part).schema.field("round").type
        check(arrow_is_string(got), f"{where}: pyarrow with a typed partitioning gives {got}")
        desc = dict(
            (r[0], r[1])
            for r in duckdb.sql(
                f"DESCRIBE SELECT * FROM read_parquet('{root}/*/*.parquet', hive_partitioning = true, hive_types = {{'round': VARCHAR}})"
            ).fetchall()
        )
        check(desc.get("round") == "VARCHAR", f"{where}: duckdb with hive_types gives {desc.get('round')}")
        inferred = pl.scan_parquet(f"{root}/**/*.parquet", hive_partitioning=True).collect_schema()["round"]
        print(f"  ok {where}: round=2025 is inferred as {inferred} untyped; the typed forms keep it a string")


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
        die(f"{bench} holds no <table>/round=<id>/data.parquet", 1)
    rounds = sorted({r for rs in tables.values() for r in rs})

    run_snippets(bench, readme)

    print("== manifests")
    manifests = {r: check_manifest(bench, r, tables) for r in rounds}
    print("== readers, table by table")
    for table, rs in tables.items():
        if not check(rs, f"{table}: no round=<id>/data.parquet"):
            continue
        try:
            rows = check_polars(bench, table, rs)
        except Exception:
            fail(f"polars {table}: raised\n{traceback.format_exc()}")
            rows = None
        if rows is None:
            continue
        for name, fn in [("pyarrow", check_pyarrow), ("pandas", check_pandas), ("duckdb", check_duckdb)]:
            try:
                fn(bench, table, rows)
            except Exception:
                fail(f"{name} {table}: raised\n{traceback.format_exc()}")
    print("== footer key-value metadata")
    for table, rs in tables.items():
        for r in rs:
            try:
                check_footer(bench, table, r, manifests.get(r))
            except Exception:
                fail(f"footer {table}/round={r}: raised\n{traceback.format_exc()}")
    print("== typed round partition")
    try:
        t = next(t for t, rs in tables.items() if rs)
        check_numeric_round_advice(bench, t, tables[t][0])
    except Exception:
        fail(f"numeric round id: raised\n{traceback.format_exc()}")

    if FAILURES:
        print(f"\nreaders: {len(FAILURES)} failure(s):", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(f"\nreaders: all checks passed ({len(tables)} tables, rounds {rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
