#!/usr/bin/env python3
"""The OCI runtime validation suite (runtime-tools) against berth-oci, runc and crun.

Builds the suite offline from ../shared/conformance with Debian's golang-go (once per
tarball; the build is kept under --work), runs each of its programs against every
runtime in the same run, and prints one table: for each program and runtime, the
TAP assertions that passed / failed / were skipped.

It fails (exit 1) when berth-oci does worse than the better of runc and crun on
any program (see standing(): a program fully passed beats one failed, then fewer
failed assertions, then more passed ones), or when fewer than --bar programs pass
fully under berth-oci.

Each runtime gets its own --root state directory; crun alone runs with this
hybrid host's v2 cgroup.controllers hidden, or it refuses the host (see
../shared/conformance/README.md and write_wrapper). Needs root.

The programs make their bundles as /tmp/ocitest<N>, and some runs leave them
behind, runc's with the container's root still mounted in the host's mount
namespace (the programs that share it). Whatever /tmp/ocitest* appeared during
the run is unmounted and removed at its end.
"""

import argparse
import concurrent.futures
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

PROGRAM_TIMEOUT = 180


def build_suite(tarball, work):
    """Unpacks and builds the suite into work/; returns the source directory."""
    with open(tarball, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    src = os.path.join(work, "runtime-tools")
    stamp = os.path.join(work, "built-" + digest)
    if os.path.exists(stamp):
        return src
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with tarfile.open(tarball) as t:
        t.extractall(work)
    env = dict(os.environ, GOFLAGS="-mod=vendor", GOPROXY="off",
               GOCACHE=os.path.join(work, "gocache"), GOPATH=os.path.join(work, "gopath"))
    r = subprocess.run(["make", "runtimetest", "validation-executables"], cwd=src, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:])
        sys.exit("validation suite: build failed (is golang-go installed?)")
    open(stamp, "w").close()
    return src


HIDDEN = "/sys/fs/cgroup/unified/cgroup.controllers"


def write_wrapper(work, name, binary):
    """A RUNTIME for the suite: the real binary with a private --root.

    crun refuses a hybrid host whose v2 hierarchy lists a controller; its wrapper
    runs it in a private mount namespace with that file hidden. The others run on
    the host as it is."""
    state = os.path.join(work, "state", name)
    os.makedirs(state, exist_ok=True)
    path = os.path.join(work, "runtime-" + name)
    run = f'exec {binary} --root {state} "$@"'
    if name == "crun" and os.path.exists(HIDDEN):
        empty = os.path.join(work, "empty")
        open(empty, "w").close()
        run = (f"exec unshare -m --propagation private sh -c "
               f"'mount --bind {empty} {HIDDEN} && {run}' sh \"$@\"")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{run}\n")
    os.chmod(path, 0o755)
    return path


def count_tap(text, returncode):
    """(passed, failed, skipped) assertions of one program's output and exit status.

    The lifecycle and hook programs make no assertion of their own: they print
    "1..0", plus a YAML block naming the error when the runtime got it wrong. Such
    a program counts as one assertion, passed without a block, failed with one.
    The *_fail programs print nothing and exit 0 when the runtime refused the bad
    config: one passed assertion. A non-zero exit (the suite's Fatal), or TAP cut
    short, adds one failed assertion."""
    ok = bad = skip = 0
    plan = yaml = False
    for line in text.splitlines():
        if re.match(r"^1\.\.\d+", line):
            plan = True
        if line.strip() == "---":
            yaml = True
        m = re.match(r"^(not ok|ok)\b(.*)$", line)
        if not m:
            continue
        if re.search(r"#\s*skip", m.group(2), re.IGNORECASE):
            skip += 1
        elif m.group(1) == "ok":
            ok += 1
        else:
            bad += 1
    if returncode != 0:
        bad += 1
    elif ok + bad + skip == 0:
        if (plan and not yaml) or not text.strip():
            ok = 1
        else:
            bad = 1
    elif not plan:
        bad += 1  # cut short
    return ok, bad, skip


def standing(result):
    """How well a runtime did on one program, for comparing runtimes: passing it
    fully first, then fewer failed assertions, then more passed ones. (A runtime
    that runs a config it should refuse passes many inner assertions, and fails.)"""
    ok, bad, _ = result
    return (bad == 0, -bad, ok)


def run_program(src, program, runtime, log_dir):
    exe = os.path.join("validation", program, program + ".t")
    env = dict(os.environ, RUNTIME=runtime)
    try:
        r = subprocess.run([exe], cwd=src, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=PROGRAM_TIMEOUT)
        out, err, rc = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = f"timed out after {PROGRAM_TIMEOUT} s\n"
        rc = 1
    name = os.path.basename(runtime).removeprefix("runtime-")
    with open(os.path.join(log_dir, f"{program}.{name}.tap"), "w") as f:
        f.write(out)
        f.write(f"\n# exit status {rc}; stderr:\n" + err)
    return count_tap(out, rc)


def bundles_left():
    return set(glob.glob("/tmp/ocitest*"))


def remove_new_bundles(before):
    """Unmounts (deepest first) and removes the bundles that appeared since `before`."""
    new = sorted(bundles_left() - before)
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if any(point == d or point.startswith(d + "/") for d in new):
                mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
    for d in new:
        shutil.rmtree(d, ignore_errors=True)
    return len(new), len(mounts)


def cgroup_dirs_left():
    """The suite's cgroups (its programs use cgroupsPath /testdir/cgrouptest/...)."""
    return set(glob.glob("/sys/fs/cgroup/*/testdir") + glob.glob("/sys/fs/cgroup/testdir"))


def remove_new_cgroups(before):
    """Removes (deepest first) the suite's cgroup directories that appeared since `before`."""
    removed = 0
    for top in sorted(cgroup_dirs_left() - before):
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            try:
                os.rmdir(dirpath)
                removed += 1
            except OSError:
                pass  # still holds a process: left for the next run to show
    return removed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth-oci", required=True)
    ap.add_argument("--tarball", required=True)
    ap.add_argument("--work", required=True, help="build and state directory (kept)")
    ap.add_argument("--bar", type=int, default=41, help="programs berth-oci must fully pass")
    ap.add_argument("--only", nargs="*", help="run just these programs")
    ap.add_argument("--runtimes", default="berth-oci,runc,crun")
    # One at a time: the cgroup programs all use the same cgroupsPath.
    ap.add_argument("-j", "--jobs", type=int, default=1)
    args = ap.parse_args()
    args.work = os.path.abspath(args.work)  # the programs run with the suite's cwd
    if os.geteuid() != 0:
        sys.exit("validation suite: needs root")

    src = build_suite(args.tarball, args.work)
    programs = sorted(p for p in os.listdir(os.path.join(src, "validation"))
                      if os.path.exists(os.path.join(src, "validation", p, p + ".t")))
    if args.only:
        programs = [p for p in programs if p in args.only]
    binaries = {"berth-oci": args.berth_oci, "runc": shutil.which("runc"),
                "crun": shutil.which("crun")}
    names = args.runtimes.split(",")
    for n in names:
        if not binaries.get(n):
            sys.exit(f"validation suite: runtime {n} not found")
    wrappers = {n: write_wrapper(args.work, n, binaries[n]) for n in names}
    log_dir = os.path.join(args.work, "logs")
    os.makedirs(log_dir, exist_ok=True)

    before = bundles_left()
    cgroups_before = cgroup_dirs_left()
    try:
        run_and_report(args, src, programs, names, wrappers, log_dir)
    finally:
        gone = remove_new_cgroups(cgroups_before)
        if gone:
            print(f"removed {gone} cgroup directories the programs left")
        removed, unmounted = remove_new_bundles(before)
        if removed:
            print(f"removed {removed} bundles the programs left in /tmp "
                  f"({unmounted} of their mounts)")


def run_and_report(args, src, programs, names, wrappers, log_dir):
    results = {}
    # Runtimes alternate per program, so a slow moment of the machine hits all alike.
    jobs = [(p, n) for p in programs for n in names]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_program, src, p, wrappers[n], log_dir): (p, n) for p, n in jobs}
        for fut in concurrent.futures.as_completed(futures):
            results[futures[fut]] = fut.result()
    # A few programs race the container's program against a hook (poststart
    # writes after the program's first line, or not), for every runtime. Each
    # program berth-oci did not fully pass runs once more for every runtime,
    # and counts then.
    retried = set()
    if "berth-oci" in names:
        for p in programs:
            if results[(p, "berth-oci")][1] > 0:
                retried.add(p)
                for n in names:
                    results[(p, n)] = run_program(src, p, wrappers[n], log_dir)

    width = max(len(p) for p in programs)
    print(f"{'program':<{width}}  " + "  ".join(f"{n:>14}" for n in names) + "   (ok/not ok/skipped)")
    full = {n: 0 for n in names}
    problems = []
    for p in programs:
        cells = []
        for n in names:
            ok, bad, skip = results[(p, n)]
            if bad == 0:
                full[n] += 1
            cells.append(f"{ok:>4}/{bad:>3}/{skip:>3}  ")
        print(f"{p:<{width}}  " + "  ".join(f"{c:>14}" for c in cells) +
              ("  (run twice)" if p in retried else ""))
        if "berth-oci" in names:
            mine = results[(p, "berth-oci")]
            others = [(n, results[(p, n)]) for n in names if n != "berth-oci"]
            if others:
                best_name, best = max(others, key=lambda o: standing(o[1]))
                if standing(mine) < standing(best):
                    problems.append((p, f"{p}: berth-oci {mine[0]} ok / {mine[1]} not ok, "
                                        f"{best_name} {best[0]} ok / {best[1]} not ok"))
    print("fully passing programs: " + ", ".join(f"{n} {full[n]}/{len(programs)}" for n in names))
    print(f"TAP logs: {log_dir}")
    if "berth-oci" in names and not args.only and full["berth-oci"] < args.bar:
        problems.append((None, f"berth-oci fully passes {full['berth-oci']} programs; "
                               f"the bar is {args.bar}"))
    for program, message in problems:
        print("FAIL " + message)
        # CI keeps only this output, not the logs: show why berth-oci failed.
        if program:
            with open(os.path.join(log_dir, f"{program}.berth-oci.tap")) as f:
                for line in f.read().splitlines()[:40]:
                    print("    " + line)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
