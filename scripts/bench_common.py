"""Shared helpers of the pipeline benchmarks (scripts/bench_encode.py, scripts/bench_decode.py).

A benchmark is never a test: it prints numbers. Every run of ck and of llama.cpp happens in the same invocation,
interleaved (ck, oracle A, oracle B, ck, ...), so machine load affects all sides alike; the statistic is the median.
"""
import json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_measured(cmd, env=None):
    """Runs cmd; returns (wall_ms, peak_rss_mib, cpu_ms) of that one child process (os.wait4 rusage; cpu = user +
    system time, which stays meaningful when other work shares the machine). Raises on failure."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1000.0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {err.decode(errors='replace').strip()[-400:]}")
    return wall, ru.ru_maxrss / 1024.0, (ru.ru_utime + ru.ru_stime) * 1000.0


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def oracle_bin(isa):
    base = os.environ.get("CK_ORACLE_DIR", os.path.join(ROOT, "build", "oracle"))
    if not os.path.isabs(base):
        base = os.path.join(ROOT, base)
    return os.path.join(base, f"build-{isa}", "bin")


def available_oracles(isas):
    """[(isa, bin_dir)] of the oracle builds that exist; prints which are missing and how to build them."""
    out = []
    for isa in isas:
        b = oracle_bin(isa)
        if os.path.isfile(os.path.join(b, "ref_encode")):
            out.append((isa, b))
        else:
            print(f"note: no {isa} oracle at {b} (build it: CK_ORACLE_ISA={isa} bash tests/parity/oracle/build.sh)",
                  file=sys.stderr)
    return out


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def fmt(x, nd=1):
    return "-" if x is None or x != x else f"{x:.{nd}f}"


def ratio(ref, ck):
    """speed ratio ck vs llama.cpp = llama.cpp time / ck time (>= 1.0: ck at least as fast)"""
    return ref / ck if ck and ref and ck == ck and ref == ref else float("nan")


def write_outputs(out_dir, name, rows, table_md, header):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({"format": "ck.bench", "version": 1, "bench": name, "header": header, "rows": rows}, f, indent=1)
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write(table_md)
    print(table_md)
    print(f"raw: {os.path.join(out_dir, name + '.json')}")
