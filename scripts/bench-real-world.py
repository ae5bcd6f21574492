#!/usr/bin/env python3
"""The real-world mode of scripts/bench-template: every chart given (a chart folder, or a folder
of chart folders, searched two levels deep) rendered with its default values and with each of
its ci/*.yaml files, side by side, interleaved render by render so that drift of a shared
machine hits every tool alike:

- rudder: the whole `rudder template` process;
- Helm in-process: Helm v4.2.3's chart load + client-only dry-run install with the Go SDK
  already loaded (helm-python-sdk), the engine-to-engine figure;
- Helm as a process: ../shared/tools/helm-process (or $HELM_PROCESS), Helm's Go SDK started
  fresh, then load + render: a lower bound of `helm template`. It takes default values only,
  so it is measured on the default-values renders.

Prints each render's medians and ratios, the totals (wall clock, and CPU seconds of every
thread, which a shared machine disturbs less), the peak memory (GNU time's maximum RSS)
of rudder and of Helm as a process, and the ten renders slowest relative to Helm in-process.
Charts come from anywhere (scripts/bench-corpus-export.py makes them out of chart
repositories); none is committed.

  scripts/bench-real-world.py [--quick] [--runs N] [--rudder PATH] CHART_OR_FOLDER...
  --quick: default values only, 3 runs (unless --runs says otherwise).
"""
import argparse, glob, os, resource, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)


def find_charts(paths):
    out = []
    for p in paths:
        p = os.path.abspath(p)
        if os.path.exists(os.path.join(p, "Chart.yaml")):
            out.append(p)
            continue
        found = sorted(os.path.dirname(c) for c in glob.glob(os.path.join(p, "*", "Chart.yaml")))
        found += sorted(os.path.dirname(c) for c in glob.glob(os.path.join(p, "*", "*", "Chart.yaml"))
                        if os.path.basename(os.path.dirname(os.path.dirname(c))) != "charts")
        if not found:
            sys.exit("bench: no chart in " + p)
        out += found
    return out


def peak_kib(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(r.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed(cmd, cpu=None):
    """Wall seconds and success; the child's CPU seconds (user + system) go to `cpu`."""
    c = children_cpu()
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    if cpu is not None:
        cpu.append(children_cpu() - c)
    return wall, r.returncode == 0


def merge(d, s):
    for k, v in s.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            merge(d[k], v)
        else:
            d[k] = v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--rudder", help="the rudder executable (default: what scripts/build-release builds)")
    ap.add_argument("charts", nargs="+")
    a = ap.parse_args()
    if a.rudder is None:
        build = os.path.join(ROOT, "scripts", "build-release")
        a.rudder = subprocess.run([build], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    runs = a.runs or (3 if a.quick else 5)
    helm_process = os.environ.get("HELM_PROCESS") or os.path.join(ROOT, "..", "shared", "tools", "helm-process")
    if not os.path.exists(helm_process):
        helm_process = None
        print("bench: no helm-process tool (set HELM_PROCESS); Helm as a process is not measured", file=sys.stderr)
    py = sys.executable

    renders = []
    for chart in find_charts(a.charts):
        renders.append((chart, None))
        if not a.quick:
            renders += [(chart, v) for v in sorted(glob.glob(os.path.join(chart, "ci", "*.yaml")))]

    charts = sorted({c for c, _ in renders})
    base = os.path.commonpath(charts) if len(charts) > 1 else os.path.dirname(charts[0])
    rows = []
    print("%-44s %9s %9s %9s %7s %7s %8s %8s" % ("render", "rudder", "helm-in", "helm-proc", "in/r", "proc/r", "r MiB", "proc MiB"))
    with helm.Config(namespace="default", storage_driver="memory") as cfg:
        for chart, values_file in renders:
            label = os.path.relpath(chart, base)
            if values_file:
                label += " -f ci/" + os.path.basename(values_file)
            rudder_cmd = [a.rudder, "template", "rel", chart] + (["-f", values_file] if values_file else [])
            proc_cmd = [helm_process, py, chart, "rel"] if helm_process and not values_file else None
            vals = {}
            if values_file:
                try:
                    merge(vals, helm.values_from_yaml(open(values_file).read()) or {})
                except Exception as e:
                    print("%-44s values not readable by Helm: %s" % (label, str(e).splitlines()[-1][:80]))
                    continue

            def helm_once():
                c = helm.Chart.load(chart)
                try:
                    cfg.install(c, "rel", vals, dry_run="client", namespace="default")
                finally:
                    c.close()

            # One untimed round warms the page cache and finds out who fails.
            _, rudder_ok = timed(rudder_cmd)
            try:
                helm_once()
                helm_ok = True
            except Exception:
                helm_ok = False
            if proc_cmd and not timed(proc_cmd)[1]:
                proc_cmd = None
            if not rudder_ok or not helm_ok:
                print("%-44s skipped: %s" % (label, " and ".join(
                    n for n, ok in (("rudder", rudder_ok), ("helm", helm_ok)) if not ok) + " failed"))
                continue
            rt, ht, pt = [], [], []
            rc, hc, pc = [], [], []
            for _ in range(runs):
                rt.append(timed(rudder_cmd, rc)[0])
                t, c = time.perf_counter(), time.process_time()
                helm_once()
                ht.append(time.perf_counter() - t)
                hc.append(time.process_time() - c)
                if proc_cmd:
                    pt.append(timed(proc_cmd, pc)[0])
            r, h = statistics.median(rt), statistics.median(ht)
            p = statistics.median(pt) if pt else None
            rmem = peak_kib(rudder_cmd) / 1024
            pmem = peak_kib(proc_cmd) / 1024 if proc_cmd else None
            cpu = (statistics.median(rc), statistics.median(hc), statistics.median(pc) if pc else None)
            rows.append((label, r, h, p, rmem, pmem, cpu))
            print("%-44s %7.1fms %7.1fms %9s %6.2fx %7s %8.1f %8s" % (
                label[:44], r * 1e3, h * 1e3, "%7.1fms" % (p * 1e3) if p else "-", h / r,
                "%6.2fx" % (p / r) if p else "-", rmem, "%.1f" % pmem if pmem else "-"))
            sys.stdout.flush()

    if not rows:
        return
    tr, th = sum(x[1] for x in rows), sum(x[2] for x in rows)
    with_proc = [x for x in rows if x[3]]
    print()
    print("renders: %d (%d with Helm as a process)" % (len(rows), len(with_proc)))
    print("total: rudder %.3f s, Helm in-process %.3f s: Helm in-process / rudder %.2fx" % (tr, th, th / tr))
    if with_proc:
        pr, pp = sum(x[1] for x in with_proc), sum(x[3] for x in with_proc)
        print("default-values renders: rudder %.3f s, Helm as a process %.3f s: Helm as a process / rudder %.2fx" % (pr, pp, pp / pr))
    # CPU seconds (user + system, every thread) say what the work costs even when other
    # processes share the machine and stretch the wall-clock figures.
    cr, ch = sum(x[6][0] for x in rows), sum(x[6][1] for x in rows)
    print("CPU total: rudder %.3f s, Helm in-process %.3f s: %.2fx" % (cr, ch, ch / cr))
    if with_proc:
        cpr, cpp = sum(x[6][0] for x in with_proc), sum(x[6][2] for x in with_proc)
        print("CPU, default-values renders: rudder %.3f s, Helm as a process %.3f s: %.2fx" % (cpr, cpp, cpp / cpr))
    print("median render: rudder %.1f ms, Helm in-process %.1f ms" % (
        statistics.median(x[1] for x in rows) * 1e3, statistics.median(x[2] for x in rows) * 1e3))
    print("peak memory: rudder max %.1f MiB%s" % (max(x[4] for x in rows),
          ", Helm as a process max %.1f MiB" % max(x[5] for x in with_proc) if with_proc else ""))
    print()
    print("slowest ten relative to Helm in-process (rudder / Helm):")
    for x in sorted(rows, key=lambda x: x[1] / x[2], reverse=True)[:10]:
        print("  %-44s rudder %7.1f ms  Helm in-process %7.1f ms  %5.2fx%s" % (
            x[0][:44], x[1] * 1e3, x[2] * 1e3, x[1] / x[2],
            "  Helm as a process %7.1f ms" % (x[3] * 1e3) if x[3] else ""))


if __name__ == "__main__":
    main()
