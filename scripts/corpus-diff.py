#!/usr/bin/env python3
"""Differential test on charts we do not ship: renders each chart given on the command line
(optionally also with each values file in its ci/ folder) with `rudder template` and with real
Helm v4.2.3 (helm-python-sdk, exactly as scripts/gen-template-goldens.py computes `helm
template`), and reports per render: SAME, RANDOM (differs only in tokens that look generated:
passwords, keys, certificates, bcrypt hashes), DIFF (with the first differing lines), or how
the two failed. Exits non-zero if any render is DIFF or fails on one side only.

  scripts/corpus-diff.py [--ci-values] [--rudder PATH] CHART_DIR...

Charts come from wherever the user has them (e.g. an untarred `helm pull`, or a checkout of a
public chart repository with dependencies copied into charts/); none is committed here.
"""
import argparse, difflib, glob, importlib.util, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm  # noqa: F401
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

spec = importlib.util.spec_from_file_location("gen_template_goldens", os.path.join(ROOT, "scripts", "gen-template-goldens.py"))
goldens = importlib.util.module_from_spec(spec)
spec.loader.exec_module(goldens)

GENERATED = re.compile(r"[A-Za-z0-9+/=_\-$.]{8,}")


def classify(helm_out, rudder_out):
    if helm_out == rudder_out:
        return "SAME", []
    h, r = helm_out.splitlines(), rudder_out.splitlines()
    if len(h) == len(r) and all(a == b or GENERATED.sub("~", a) == GENERATED.sub("~", b) for a, b in zip(h, r)):
        return "RANDOM", []
    diff = [l for l in difflib.unified_diff(h, r, "helm", "rudder", lineterm="", n=0)][:12]
    return "DIFF", diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ci-values", action="store_true", help="also render with each ci/*.yaml")
    ap.add_argument("--rudder", default=os.path.join(ROOT, "target", "release", "rudder"))
    ap.add_argument("--via-render", action="store_true",
                    help="compute Helm's output from Chart.render (for charts whose aliased "
                         "dependencies helm-python-sdk's install refuses)")
    ap.add_argument("charts", nargs="+")
    a = ap.parse_args()
    goldens.VIA_RENDER = a.via_render
    bad = 0
    for chart in a.charts:
        chart = os.path.abspath(chart)
        runs = [[]]
        if a.ci_values:
            runs += [["-f", v] for v in sorted(glob.glob(os.path.join(chart, "ci", "*.yaml")))]
        for args in runs:
            label = os.path.basename(chart) + ("" if not args else " -f ci/" + os.path.basename(args[1]))
            try:
                want, want_err = goldens.render_case({"chart": chart, "release": "rel", "namespace": "ns", "args": args}), None
            except Exception as e:  # Helm failed: rudder must fail too
                want, want_err = None, str(e)
            got = subprocess.run([a.rudder, "template", "rel", chart, "-n", "ns", *args], capture_output=True, text=True)
            if want_err is not None and got.returncode != 0:
                status, detail = "BOTH-FAILED", ["helm:   " + want_err.splitlines()[-1], "rudder: " + got.stderr.strip().splitlines()[-1] if got.stderr.strip() else ""]
            elif want_err is not None:
                status, detail = "HELM-FAILED", ["helm: " + want_err]
            elif got.returncode != 0:
                status, detail = "RUDDER-FAILED", ["rudder: " + got.stderr.strip()[:2000]]
            else:
                status, detail = classify(want, got.stdout)
            if status in ("DIFF", "HELM-FAILED", "RUDDER-FAILED"):
                bad += 1
            print("%-13s %s" % (status, label))
            for line in detail:
                print("    " + line[:300])
            sys.stdout.flush()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
