#!/usr/bin/env python3
"""The measuring half of test/bench/run.sh: timing loops, memory, events.

Every subcommand appends its results, one JSON object per line, to the
results file (--results); `report` turns that file into the Markdown tables
of docs/performance.md. Nothing here asserts anything: benchmarks are not
tests.

Subcommands (run.sh is the only caller; see it for the commands measured):
  time     alternating rounds of several commands, one wall time per run
  par      N runs of a command, J at a time: total wall time, per-run times
  mem      PSS / private memory of processes (smaps_rollup), per container
  exitlat  workload exit -> /tasks/exit event (and -> ctr's return)
  logs     bytes/s of a workload writing to stdout through ctr
  note     a free-form row (binary sizes, reference values)
  subreaper  runs containerd as its child, adopting and reaping the shims,
           and keeps their CPU time in a file (the CPU meter of `time` and
           `logs`)
  report   Markdown tables from the results file

Commands are shell-like strings split with shlex (no shell runs them);
`{i}` in a command becomes a number unique within the subcommand's run, so
that container ids never repeat.
"""

import argparse
import calendar
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def die(msg):
    print(f"bench.py: {msg}", file=sys.stderr)
    sys.exit(1)


def load():
    return round(os.getloadavg()[0], 2)


def append(path, obj):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj) + "\n")


def parse_cases(specs):
    """NAME=COMMAND strings -> [(name, command string)]."""
    cases = []
    for s in specs:
        name, sep, cmd = s.partition("=")
        if not sep or not name or not cmd:
            die(f"case `{s}`: expected NAME=COMMAND")
        cases.append((name, cmd))
    return cases


def argv_of(cmd, i):
    argv = [a.replace("{i}", str(i)) for a in shlex.split(cmd)]
    path = shutil.which(argv[0]) if "/" not in argv[0] else argv[0]
    if path is None:
        die(f"`{argv[0]}` not found")
    return path, argv


def spawn(cmd, i, stdout="/dev/null", stderr_path=None, rusage=False):
    """Runs one command (posix_spawn, stdin /dev/null); returns (rc, ns), or
    (rc, ns, cpu_ms of the command and the children it reaped)."""
    path, argv = argv_of(cmd, i)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path or "/dev/null",
         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(path, argv, os.environ, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    if rusage:
        return os.waitstatus_to_exitcode(status), t1 - t0, (ru.ru_utime + ru.ru_stime) * 1e3
    return os.waitstatus_to_exitcode(status), t1 - t0


def check(rc, name, cmd, err):
    if rc == 0:
        return
    text = ""
    if err and os.path.exists(err):
        with open(err, encoding="utf-8", errors="replace") as f:
            text = f.read()[-2000:]
    die(f"{name}: `{cmd}` exited with {rc}\n{text}")


# --- time ---------------------------------------------------------------------

def perf_cpu_ms(cmd, i, err):
    """CPU time (task-clock) of a command and every process it forks, even
    the ones that leave its tree (perf stat follows forks)."""
    out = err + ".perf"
    argv = ["perf", "stat", "-x", ",", "-e", "task-clock", "-o", out, "--"]
    path, cargv = argv_of(cmd, i)
    rc = subprocess.run(argv + [path] + cargv[1:], stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=open(err, "wb")).returncode
    if rc != 0:
        return None
    with open(out, encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[2].startswith("task-clock"):
                try:
                    return float(parts[0])
                except ValueError:
                    return None
    return None


def proc_cpu_ms(pid):
    """utime+stime+cutime+cstime of a process (ms): its own CPU and that of
    every child it reaped."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used so far by containerd and everything it started, shims
    included: containerd runs under `bench.py subreaper`, which adopts the
    shims (they daemonize, and containerd is no subreaper), reaps them and
    keeps the sum of their rusage (with whatever they reaped: runc, crun,
    reaper's monitors, the workloads) in a file; containerd's own counters
    (with the `shim start` processes it reaped) are read from /proc."""

    def __init__(self, wrapper_pid, reaped_file):
        self.reaped_file = reaped_file
        # Its other children are adopted orphans (shims, reaper's anchor).
        kids = [k for k in children(wrapper_pid) if argv0(k) == "containerd"]
        if len(kids) != 1:
            die(f"subreaper {wrapper_pid}: containerd not found among its children")
        self.ctrd = kids[0]

    def read(self):
        try:
            with open(self.reaped_file, encoding="ascii") as f:
                reaped = float(f.read().strip() or 0)
        except FileNotFoundError:
            reaped = 0.0
        return proc_cpu_ms(self.ctrd) + reaped


def cmd_subreaper(a):
    """Runs a command (containerd) as the child of a subreaper that reaps
    every orphan reparented to it and sums their CPU into --cpu-file."""
    import ctypes
    import signal
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        die("prctl(PR_SET_CHILD_SUBREAPER) failed")
    pid = os.posix_spawnp(a.argv[0], a.argv, os.environ)

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    total = 0.0
    while True:
        try:
            wpid, status, ru = os.wait4(-1, 0)
        except ChildProcessError:
            sys.exit(1)
        if wpid == pid:
            sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
        total += (ru.ru_utime + ru.ru_stime) * 1e3
        tmp = a.cpu_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{total:.3f}\n")
        os.replace(tmp, a.cpu_file)


def cpu_phase(a, cases, err, counter):
    """CPU per run, after the timed rounds: perf stat per run (--cpu-perf), or
    (--cpu-wrapper) batches of runs of one case between two readings of a
    CpuMeter, plus each run's own rusage (ctr)."""
    cpu = {n: [] for n, _ in cases}
    if a.cpu_perf and shutil.which("perf"):
        for r in range(a.cpu_rounds):
            order = cases[r % len(cases):] + cases[:r % len(cases)]
            for name, cmd in order:
                counter += 1
                v = perf_cpu_ms(cmd, counter, err)
                if v is None:
                    print(f"  perf stat failed for {name}: no CPU figures", file=sys.stderr)
                    return {}
                cpu[name].append(v)
    elif a.cpu_wrapper:
        meter = CpuMeter(a.cpu_wrapper, a.cpu_file)
        for name, cmd in cases:
            time.sleep(a.settle)
            before = meter.read()
            own = 0.0
            for _ in range(a.cpu_rounds):
                counter += 1
                rc, _, c = spawn(cmd, counter, stderr_path=err, rusage=True)
                check(rc, name, cmd, err)
                own += c
            time.sleep(a.settle)  # the last shim exits and is reaped
            total = meter.read() - before + own
            cpu[name] = [total / a.cpu_rounds]
    return {n: statistics.median(v) for n, v in cpu.items() if v}


def cmd_time(a):
    cases = parse_cases(a.case)
    samples = {n: [] for n, _ in cases}
    err = os.path.join(tempfile.gettempdir(), f"bench-time-{os.getpid()}.err")
    counter = 0
    load0 = load()
    total = a.warmup + a.rounds
    for r in range(total):
        # Rotate the order every round: no runtime always runs first.
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        for name, cmd in order:
            counter += 1
            rc, ns = spawn(cmd, counter, stderr_path=err)
            check(rc, name, cmd, err)
            if r >= a.warmup:
                samples[name].append(ns / 1e6)
        if a.progress:
            print(f"  round {r + 1}/{total}", file=sys.stderr, end="\r")
    if a.progress:
        print(file=sys.stderr)
    load1 = load()
    cpu = cpu_phase(a, cases, err, counter + 1000) if a.cpu_rounds else {}
    cpu_key = "cpu_ms_perf" if a.cpu_perf else "cpu_ms_per_run"
    for name, cmd in cases:
        row = {"measure": a.measure, "case": name, "unit": "ms", "better": "lower",
               "samples": samples[name], "command": cmd, "load": [load0, load1]}
        if name in cpu:
            row["extra"] = {cpu_key: cpu[name]}
        append(a.results, row)
        c = f", CPU {cpu[name]:.2f} ms" if name in cpu else ""
        print(f"  {name:28s} median {statistics.median(samples[name]):9.2f} ms{c}",
              file=sys.stderr)
    for f in (err, err + ".perf"):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass


# --- par ----------------------------------------------------------------------

def cmd_par(a):
    cases = parse_cases([a.case])
    name, cmd = cases[0]
    err_dir = tempfile.mkdtemp(prefix="bench-par-")
    load0 = load()

    def one(i):
        err = os.path.join(err_dir, f"{i}.err")
        rc, ns = spawn(cmd, i, stderr_path=err)
        check(rc, name, cmd, err)
        return ns / 1e6

    t0 = time.perf_counter_ns()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        per_run = list(pool.map(one, range(a.first, a.first + a.n)))
    wall = (time.perf_counter_ns() - t0) / 1e9
    shutil.rmtree(err_dir, ignore_errors=True)
    if a.results:
        append(a.results, {"measure": a.measure, "case": name, "unit": "containers/s",
                           "better": "higher", "samples": [a.n / wall], "command": cmd,
                           "extra": {"wall_s": wall, "n": a.n, "jobs": a.jobs,
                                     "per_start_median_ms": statistics.median(per_run)},
                           "load": [load0, load()]})
    print(f"  {name:28s} {a.n} in {wall:.2f} s = {a.n / wall:.1f}/s "
          f"(median per run {statistics.median(per_run):.1f} ms)", file=sys.stderr)


# --- mem ----------------------------------------------------------------------

def rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            m = re.match(r"^(\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                kids += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return kids


def comm(pid):
    with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as f:
        return f.read().strip()


def argv0(pid):
    """The name a process was started under (argv[0]: `reaper-monitor`, the
    runtimes' shims by their full names; comm keeps only 15 characters)."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return os.path.basename(f.read().split(b"\0")[0].decode(errors="replace")) or comm(pid)


def cmd_mem(a):
    """The shims of one containerd (`-address SOCK` on their command line)
    and every descendant of theirs that is not the workload (comm in
    --exclude): reaper's monitors; plus reaper's overlay anchors, if any.
    """
    shims = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = [x.decode(errors="replace") for x in f.read().split(b"\0")]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if (os.path.basename(argv[0]).startswith("containerd-shim")
                and "-address" in argv[:-1] and argv[argv.index("-address") + 1] == a.address):
            shims.append(int(d))
    anchors = {}
    for path in a.anchor_files:
        try:
            with open(path, encoding="ascii") as f:
                anchors[int(f.read().split()[0])] = "reaper-anchor (one per overlay group)"
        except (FileNotFoundError, ValueError, IndexError):
            pass
    procs = dict(anchors)
    todo = list(shims)
    while todo:
        pid = todo.pop()
        try:
            c = comm(pid)
        except FileNotFoundError:
            continue
        todo += children(pid)
        if c in a.exclude or pid in anchors:
            continue
        procs[pid] = argv0(pid)
    totals = {}
    kinds = {}
    for pid, c in procs.items():
        kinds[c] = kinds.get(c, 0) + 1
        for k, v in rollup(pid).items():
            totals[k] = totals.get(k, 0) + v
    n = a.containers
    row = {k: totals.get(k, 0) / n / 1024 for k in
           ("Pss", "Private_Dirty", "Private_Clean", "Rss", "Pss_Anon")}
    append(a.results, {"measure": a.measure, "case": a.name, "unit": "MiB/container",
                       "better": "lower", "samples": [row["Pss"]],
                       "extra": {"per_container_mib": row, "processes": kinds,
                                 "shims": len(set(shims)), "containers": n},
                       "command": a.command, "load": [load(), load()]})
    print(f"  {a.name:28s} per container: PSS {row['Pss']:.2f} MiB, private dirty "
          f"{row['Private_Dirty']:.2f} MiB, RSS {row['Rss']:.2f} MiB; processes {kinds}",
          file=sys.stderr)


# --- exitlat ------------------------------------------------------------------

EXIT_RE = re.compile(r"/tasks/exit\s+(\{.*\})")


class Events:
    """`ctr events`, each /tasks/exit line stamped (CLOCK_REALTIME) on arrival."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     bufsize=0)
        self.lock = threading.Condition()
        self.exits = {}
        self.lines = 0
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            now = time.time_ns()
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                with self.lock:
                    self.lines += 1
                    m = EXIT_RE.search(text)
                    if m:
                        try:
                            ev = json.loads(m.group(1))
                        except json.JSONDecodeError:
                            continue
                        self.exits[ev.get("container_id", "")] = (now, ev)
                    self.lock.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def parse_rfc3339_ns(s):
    """2024-01-02T03:04:05.123456789Z -> ns since the epoch (UTC)."""
    m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        return None
    secs = calendar.timegm(tuple(int(m.group(k)) for k in range(1, 7)))
    frac = (m.group(7) or "0")[:9].ljust(9, "0")
    tz = m.group(8)
    off = 0
    if tz != "Z":
        off = (int(tz[1:3]) * 60 + int(tz[4:6])) * 60 * (1 if tz[0] == "+" else -1)
    return (secs - off) * 1_000_000_000 + int(frac)


def cmd_exitlat(a):
    cases = parse_cases(a.case)
    events = Events(shlex.split(a.events))
    # Subscribed once a marker event (a namespace created) comes through.
    for k in range(20):
        before = events.lines
        subprocess.run(shlex.split(a.marker.replace("{i}", str(k))), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if events.wait_for(lambda b=before: events.lines > b, 1.0):
            break
    else:
        die("ctr events did not subscribe")
    res = {n: {"event": [], "return": [], "exited_at": []} for n, _ in cases}
    out = tempfile.NamedTemporaryFile(prefix="bench-exitlat-", delete=False).name
    err = out + ".err"
    load0 = load()
    counter = 0
    total = a.warmup + a.rounds
    for r in range(total):
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        for name, cmd in order:
            counter += 1
            path, argv = argv_of(cmd, counter)
            cid = a.id_template.replace("{i}", str(counter))
            with open(out, "wb") as o, open(err, "wb") as e:
                p = subprocess.Popen(argv, executable=path, stdin=subprocess.DEVNULL, stdout=o,
                                     stderr=e)
                rc = p.wait()
            returned = time.time_ns()
            check(rc, name, cmd, err)
            with open(out, encoding="ascii") as f:
                stamp = int(f.read().split()[0])
            if not events.wait_for(lambda: cid in events.exits, 10):
                die(f"{name}: no /tasks/exit event for {cid}")
            with events.lock:
                recv, ev = events.exits.pop(cid)
            if r < a.warmup:
                continue
            res[name]["event"].append((recv - stamp) / 1e6)
            res[name]["return"].append((returned - stamp) / 1e6)
            ex = parse_rfc3339_ns(ev.get("exited_at", ""))
            if ex is not None:
                res[name]["exited_at"].append((ex - stamp) / 1e6)
    load1 = load()
    events.stop()
    for f in (out, err):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass
    for name, cmd in cases:
        r = res[name]
        extra = {k: statistics.median(v) for k, v in r.items() if v}
        append(a.results, {"measure": a.measure, "case": name, "unit": "ms", "better": "lower",
                           "samples": r["event"], "command": cmd,
                           "extra": {"median_exit_to_ctr_return_ms": extra.get("return"),
                                     "median_exit_to_exited_at_ms": extra.get("exited_at")},
                           "load": [load0, load1]})
        print(f"  {name:28s} exit->event {extra['event']:.2f} ms, exit->exited_at "
              f"{extra.get('exited_at', float('nan')):.2f} ms, exit->ctr return "
              f"{extra['return']:.2f} ms", file=sys.stderr)


# --- logs ---------------------------------------------------------------------

DD_RE = re.compile(r"^(\d+) bytes .* copied, ([0-9.]+) s", re.M)


def cmd_logs(a):
    cases = parse_cases(a.case)
    res = {n: {"dd": [], "wall": [], "cpu": []} for n, _ in cases}
    meter = CpuMeter(a.cpu_wrapper, a.cpu_file) if a.cpu_wrapper else None
    err = os.path.join(tempfile.gettempdir(), f"bench-logs-{os.getpid()}.err")
    load0 = load()
    counter = 0
    for r in range(a.rounds):
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        for name, cmd in order:
            counter += 1
            metered = meter is not None and not name.startswith("(")
            if metered:
                time.sleep(a.settle)
                before = meter.read()
            rc, ns, own = spawn(cmd, counter, stderr_path=err, rusage=True)
            check(rc, name, cmd, err)
            if metered:
                time.sleep(a.settle)  # the shim exits and is reaped
                res[name]["cpu"].append(meter.read() - before + own)
            with open(err, encoding="utf-8", errors="replace") as f:
                m = DD_RE.search(f.read())
            if not m:
                die(f"{name}: no dd summary on stderr")
            nbytes = int(m.group(1))
            res[name]["dd"].append(nbytes / float(m.group(2)) / 1e6)
            res[name]["wall"].append(nbytes / (ns / 1e9) / 1e6)
    for name, cmd in cases:
        r = res[name]
        extra = {"median_wall_MBps": statistics.median(r["wall"])}
        if r["cpu"]:
            extra["cpu_ms_per_run"] = statistics.median(r["cpu"])
        append(a.results, {"measure": a.measure, "case": name, "unit": "MB/s", "better": "higher",
                           "samples": r["dd"], "command": cmd, "extra": extra,
                           "load": [load0, load()]})
        print(f"  {name:28s} {statistics.median(r['dd']):8.0f} MB/s (dd), "
              f"{statistics.median(r['wall']):8.0f} MB/s (whole command)", file=sys.stderr)
    try:
        os.unlink(err)
    except FileNotFoundError:
        pass


# --- note ---------------------------------------------------------------------

def cmd_note(a):
    append(a.results, {"measure": a.measure, "case": a.name, "unit": a.unit, "better": a.better,
                       "samples": [a.value], "command": a.command, "load": [load(), load()]})


# --- report -------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "-"
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


LABELS = {
    "cpu_ms_perf": "CPU ms (perf task-clock, whole tree)",
    "cpu_ms_perf ratio": "reaper / this (CPU)",
    "cpu_ms_per_run": "CPU ms per run (containerd + shim + runtime + ctr)",
    "cpu_ms_per_run ratio": "reaper / this (CPU)",
    "median_exit_to_ctr_return_ms": "exit -> ctr returned (ms)",
    "median_exit_to_exited_at_ms": "exit -> exited_at stamped (ms)",
    "median_wall_MBps": "MB/s over the whole ctr run",
    "wall_s": "wall (s)",
    "per_start_median_ms": "median ctr run -d (ms)",
    "n": "containers per round",
    "jobs": "at a time",
}


def cmd_report(a):
    rows = []
    with open(a.results, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    measures = []
    for r in rows:
        if r["measure"] not in measures:
            measures.append(r["measure"])
    for m in measures:
        # Rows of one case from several rounds (par, note) become one row:
        # the samples joined, numeric extras as the median of the rounds.
        mrows = []
        for r in rows:
            if r["measure"] != m:
                continue
            same = next((x for x in mrows if x["case"] == r["case"]), None)
            if same is None:
                r = dict(r)
                r["extras_rounds"] = [r.get("extra") or {}]
                mrows.append(r)
                continue
            same["samples"] = same["samples"] + r["samples"]
            same["load"] = same.get("load", []) + r.get("load", [])
            same["extras_rounds"].append(r.get("extra") or {})
        for r in mrows:
            if len(r["extras_rounds"]) > 1:
                merged = {}
                for k, v in r["extras_rounds"][0].items():
                    vals = [e.get(k) for e in r["extras_rounds"]]
                    if all(isinstance(x, (int, float)) for x in vals):
                        merged[k] = statistics.median(vals)
                    else:
                        merged[k] = v
                r["extra"] = merged
        ref = next((r for r in mrows if r["case"].startswith("reaper")), None)
        ref_v = statistics.median(ref["samples"]) if ref and ref["samples"] else None
        loads = [x for r in mrows for x in r.get("load", [])]
        print(f"### {m}\n")
        if loads:
            print(f"1-minute load average during the measure: {min(loads):.1f}-{max(loads):.1f}" + "\n")
        extra_keys = []
        for r in mrows:
            for k in (r.get("extra") or {}):
                if k not in extra_keys and k != "per_container_mib":
                    extra_keys.append(k)
                    if k.startswith("cpu_"):
                        extra_keys.append(k + " ratio")
        mem = any("per_container_mib" in (r.get("extra") or {}) for r in mrows)
        head = ["case", f"median ({mrows[0]['unit']})", "n", "min", "max", "reaper / this"]
        if mrows[0]["better"] == "lower" and not any("per_container_mib" in (r.get("extra") or {})
                                                     for r in mrows):
            head[5] = "reaper / this (< 1: reaper better)"
        elif mrows[0]["better"] == "higher":
            head[5] = "reaper / this (> 1: reaper better)"
        if mem:
            head[1:2] = ["PSS (MiB/container)", "private dirty", "private clean", "RSS"]
            head.remove("min")
            head.remove("max")
            head.remove("n")
            extra_keys = [k for k in extra_keys if k not in ("processes", "shims", "containers")]
            head += ["processes", "shims"]
        head += [LABELS.get(k, k) for k in extra_keys]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in mrows:
            s = r["samples"]
            med = statistics.median(s) if s else None
            ratio = "-"
            peer = not r["case"].startswith("(")
            if ref_v is not None and med and r is not ref and peer:
                ratio = f"{ref_v / med:.2f}"
            elif r is ref:
                ratio = "1"
            ex = dict(r.get("extra") or {})
            ref_ex = (ref.get("extra") or {}) if ref else {}
            for k in list(ex):
                if k.startswith("cpu_") and isinstance(ex[k], (int, float)) and ref_ex.get(k):
                    ex[k + " ratio"] = ref_ex[k] / ex[k] if ex[k] and peer else None
            if mem:
                pc = ex["per_container_mib"]
                cells = [r["case"], fmt(pc["Pss"]), fmt(pc["Private_Dirty"]),
                         fmt(pc["Private_Clean"]), fmt(pc["Rss"]), ratio,
                         ", ".join(f"{v} {k}" for k, v in sorted(ex["processes"].items())),
                         str(ex["shims"])]
            else:
                cells = [r["case"], fmt(med), str(len(s)), fmt(min(s) if s else None),
                         fmt(max(s) if s else None), ratio]
            for k in extra_keys:
                v = ex.get(k)
                cells.append(fmt(v) if isinstance(v, (int, float)) else (str(v) if v else "-"))
            print("| " + " | ".join(cells) + " |")
        print("\nCommands:\n")
        for r in mrows:
            if r.get("command"):
                print(f"    {r['case']}: {r['command']}")
        print()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("time")
    t.add_argument("--results", required=True)
    t.add_argument("--measure", required=True)
    t.add_argument("--rounds", type=int, default=10)
    t.add_argument("--warmup", type=int, default=1)
    t.add_argument("--progress", action="store_true")
    t.add_argument("--cpu-rounds", type=int, default=0, help="then measure CPU per run")
    t.add_argument("--cpu-perf", action="store_true", help="CPU by perf stat, per run")
    t.add_argument("--cpu-wrapper", type=int,
                   help="CPU by containerd's counters, per batch: the subreaper's pid")
    t.add_argument("--cpu-file", help="the subreaper's --cpu-file")
    t.add_argument("--settle", type=float, default=1.0)
    t.add_argument("case", nargs="+")
    t.set_defaults(func=cmd_time)

    q = sub.add_parser("par")
    q.add_argument("--results")
    q.add_argument("--measure", default="")
    q.add_argument("--n", type=int, required=True)
    q.add_argument("--first", type=int, default=0)
    q.add_argument("--jobs", type=int, default=8)
    q.add_argument("case")
    q.set_defaults(func=cmd_par)

    m = sub.add_parser("mem")
    m.add_argument("--results", required=True)
    m.add_argument("--measure", required=True)
    m.add_argument("--name", required=True)
    m.add_argument("--command", default="")
    m.add_argument("--containers", type=int, required=True)
    m.add_argument("--exclude", action="append", default=[])
    m.add_argument("--anchor-file", dest="anchor_files", action="append", default=[],
                   help="reaper's overlay anchor record: its pid is counted too")
    m.add_argument("--address", required=True, help="containerd's socket: its shims")
    m.set_defaults(func=cmd_mem)

    e = sub.add_parser("exitlat")
    e.add_argument("--results", required=True)
    e.add_argument("--measure", required=True)
    e.add_argument("--rounds", type=int, default=10)
    e.add_argument("--warmup", type=int, default=1)
    e.add_argument("--events", required=True, help="the `ctr events` command")
    e.add_argument("--marker", required=True, help="a command that makes an event ({i})")
    e.add_argument("--id-template", required=True, help="the container id of run {i}")
    e.add_argument("case", nargs="+")
    e.set_defaults(func=cmd_exitlat)

    lg = sub.add_parser("logs")
    lg.add_argument("--results", required=True)
    lg.add_argument("--measure", required=True)
    lg.add_argument("--rounds", type=int, default=3)
    lg.add_argument("--cpu-wrapper", type=int)
    lg.add_argument("--cpu-file")
    lg.add_argument("--settle", type=float, default=0.5)
    lg.add_argument("case", nargs="+")
    lg.set_defaults(func=cmd_logs)

    n = sub.add_parser("note")
    n.add_argument("--results", required=True)
    n.add_argument("--measure", required=True)
    n.add_argument("--name", required=True)
    n.add_argument("--unit", required=True)
    n.add_argument("--better", default="lower")
    n.add_argument("--command", default="")
    n.add_argument("value", type=float)
    n.set_defaults(func=cmd_note)

    sr = sub.add_parser("subreaper")
    sr.add_argument("--cpu-file", required=True)
    sr.add_argument("argv", nargs="+")
    sr.set_defaults(func=cmd_subreaper)

    r = sub.add_parser("report")
    r.add_argument("results")
    r.set_defaults(func=cmd_report)

    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
