"""Runs one case in its own folder under limits and classifies the outcome.

Layout of a case: <work>/<slug>/run/ is the working directory holding every input (and HOME and TMPDIR), and
<work>/<slug>/sentinel/ a sibling that must come out untouched. The child is started through a tiny launcher that
sets RLIMIT_AS (the memory cap), RLIMIT_FSIZE and RLIMIT_CORE and then execs charter in its own session, so a
timeout kills the whole process group; os.wait4 returns that child's exact peak RSS.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

LAUNCHER = ("import os, resource, sys\n"
            "cap, fsize = int(sys.argv[1]), int(sys.argv[2])\n"
            "for limit, value in ((resource.RLIMIT_AS, cap), (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):\n"
            "    try:\n"
            "        resource.setrlimit(limit, (value, value))\n"
            "    except (ValueError, OSError):\n"
            "        pass  # macOS has no settable RLIMIT_AS; the RSS limit still applies\n"
            "os.execv(sys.argv[3], sys.argv[3:])\n")
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
# What the Swift runtime, Foundation and libc print when an allocation fails under the address-space cap.
ALLOCATION_FAILURE = re.compile(r"could not allocate|out of memory|cannot allocate memory|bad_alloc|failed to allocate|"
                                r"mmap.*failed|allocation failed|memory exhausted", re.I)
FAILURES = ("CRASH", "HANG", "RUNAWAY", "ESCAPE", "BASELINE")
SENTINEL = {"keep.txt": b"must stay\n", "nested/keep.bin": bytes(range(256))}
TAIL = 16384
TOKEN = re.compile(r"esc\d+[a-z]+\d+z")


class Limits:
    def __init__(self, timeout=20.0, rss_limit=4 << 30, memory_cap=6 << 30, file_cap=1 << 30, backtrace=False):
        self.timeout, self.rss_limit, self.memory_cap, self.file_cap, self.backtrace = timeout, rss_limit, memory_cap, file_cap, backtrace


def write_files(root, files):
    for relative, blob in files.items():
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(blob)


def snapshot(root):
    """(relative path, size, mtime) of everything under `root`."""
    entries = set()
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            entries.add((os.path.relpath(path, root), info.st_size, int(info.st_mtime)))
    return entries


def head_and_tail(path, limit=TAIL):
    """The first and last `limit` bytes of a file (all of it when shorter), as text."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(0)
            if size <= 2 * limit:
                return handle.read().decode("utf-8", "replace")
            head = handle.read(limit)
            handle.seek(size - limit)
            return (head + b"\n...\n" + handle.read()).decode("utf-8", "replace")
    except OSError:
        return ""


# Backtrace frames and register dumps carry hexadecimal addresses; the message that matters never does.
STACK_FRAME = re.compile(r"0x[0-9a-fA-F]{6,}|^(Current stack trace:|Stack dump:|\*\*\*|Thread \d+|Registers:|Images|Backtrace took)")
MESSAGE = re.compile(r"fatal error|precondition failed|assertion failed|error:|terminating|illegal instruction|segmentation", re.I)


def last_line(text):
    """The line that says what went wrong: the first error line (a Swift trap's message comes before its backtrace,
    a command's "Error: …" headline before its list of problems), else the last line that is not a stack frame."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip() and not STACK_FRAME.search(line.strip())]
    messages = [line for line in lines if MESSAGE.search(line)]
    chosen = messages[0] if messages else (lines[-1] if lines else "")
    return chosen[:300]


def find_escapes(case, case_dir, work, base):
    """Paths outside run/ that the case created or changed."""
    found = []
    for name in sorted(os.listdir(case_dir)):
        if name not in ("run", "sentinel", "stdout.txt", "stderr.txt"):
            found.append(os.path.join(case_dir, name))
    sentinel = os.path.join(case_dir, "sentinel")
    for relative, blob in SENTINEL.items():
        try:
            with open(os.path.join(sentinel, relative), "rb") as handle:
                if handle.read() != blob:
                    found.append(os.path.join(sentinel, relative) + " (changed)")
        except OSError:
            found.append(os.path.join(sentinel, relative) + " (deleted)")
    # Marked names one to four levels up, at the root and in /tmp (names a mutation wrote with the case's token).
    for folder in {work, base, os.path.dirname(base), "/", "/tmp"}:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found += [os.path.join(folder, name) for name in names if case.token in name]
    for name in os.listdir(work):
        # Unmarked strays are reported by whichever case sees them first (replay alone to attribute them exactly);
        # another case's marked paths are left for that case.
        if not re.match(r"^[a-z]+-\d+-\d+$", name) and not (TOKEN.search(name) and case.token not in name):
            found.append(os.path.join(work, name))
    return list(dict.fromkeys(found))


def remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def run_case(case, charter, work, base, limits):
    """Runs `case`; returns a result dict (class, exit, signal, peak RSS, seconds, stderr tail, …)."""
    case_dir = os.path.join(work, case.slug)
    remove(case_dir)
    run_dir = os.path.join(case_dir, "run")
    write_files(run_dir, case.all_files())
    write_files(os.path.join(case_dir, "sentinel"), SENTINEL)
    for folder in ("home", "tmp"):
        os.makedirs(os.path.join(run_dir, folder), exist_ok=True)
    before = snapshot(run_dir)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.path.join(run_dir, "home"),
           "TMPDIR": os.path.join(run_dir, "tmp"), "CHARTER_THREADS": "1", "LANG": "C.UTF-8",
           "SWIFT_BACKTRACE": "enable=yes,interactive=no,symbolicate=fast" if limits.backtrace else "enable=no"}
    stdout_path, stderr_path = os.path.join(case_dir, "stdout.txt"), os.path.join(case_dir, "stderr.txt")
    timeout = limits.timeout
    started = time.monotonic()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(limits.memory_cap), str(limits.file_cap), charter] + case.argv,
                                   cwd=run_dir, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = 0  # reaped above; keeps Popen from waiting again
    seconds = time.monotonic() - started
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything the case left running
    except OSError:
        pass
    stderr = head_and_tail(stderr_path)
    result = {"name": case.name, "kind": case.kind, "description": case.description, "argv": case.argv,
              "seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss * RSS_UNIT / (1 << 20), 1), "exit": None, "signal": None,
              "stderr_last": last_line(stderr), "warnings": []}
    if os.WIFSIGNALED(status):
        result["signal"] = signal.Signals(os.WTERMSIG(status)).name if os.WTERMSIG(status) in signal.valid_signals() else os.WTERMSIG(status)
    else:
        result["exit"] = os.WEXITSTATUS(status)
    result["class"] = classify(result, stderr, timed_out.is_set(), usage.ru_maxrss * RSS_UNIT, limits)
    escapes = find_escapes(case, case_dir, work, base)
    if escapes:
        result["escapes"] = escapes[:10]
        if result["class"] not in FAILURES:
            result["class"] = "ESCAPE"
        else:
            result["warnings"].append("escape")
        for path in escapes:
            if not path.startswith(os.path.join(case_dir, "sentinel")):
                remove(path.replace(" (changed)", "").replace(" (deleted)", ""))
    if result["class"] == "ok-clean-error" and is_vague(stderr, case):
        result["warnings"].append("vague-error")
    if case.index == 0 and result["class"] != "ok-success" and result["class"] not in FAILURES:
        result["class"] = "BASELINE"
    after = snapshot(run_dir)
    result["created_files"] = len({entry[0] for entry in after} - {entry[0] for entry in before})
    result["run_dir_mb"] = round(sum(entry[1] for entry in after) / (1 << 20), 1)
    if result["run_dir_mb"] > 512:
        result["warnings"].append("large-output")
    return result, case_dir, stderr


def classify(result, stderr, timed_out, peak_bytes, limits):
    if timed_out:
        return "HANG"
    if peak_bytes > limits.rss_limit:
        return "RUNAWAY"
    if result["signal"] is not None:
        if result["signal"] == "SIGXFSZ" or ALLOCATION_FAILURE.search(stderr):
            return "RUNAWAY"  # hit the memory or file-size cap
        return "CRASH"
    # An exit status (not a signal) means charter handled the problem itself, even when it was about memory.
    return "ok-success" if result["exit"] == 0 else "ok-clean-error"


def is_vague(stderr, case):
    """A clean error that names neither a mutated file, nor the key/field that was changed, nor the path it was set to."""
    text = stderr.lower()
    if not text.strip():
        return True
    names = [name.lower() for name in case.mutated + case.hints]
    if case.key:
        names.append(str(case.key).lower())
    # Short keys (id, k) must appear as words: "id" inside "invalid" names nothing.
    return not any(name and (re.search(r"(?<![a-z0-9_])%s(?![a-z0-9_])" % re.escape(name), text) if len(name) <= 3 else name in text)
                   for name in names)
