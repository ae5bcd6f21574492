#!/usr/bin/env python3
"""Generates tests/lint/golden/NAME.out from tests/lint/cases.yaml: what `helm lint` prints and
its exit status, computed with real Helm v4.2.3 (helm-python-sdk 0.2.2's `lint`), laid out as
pkg/cmd/lint.go prints it. Cases take paths and the flags -f, --set, --strict, --quiet,
--with-subcharts, --kube-version. Usage: scripts/gen-lint-goldens.py [CASE-NAME ...]
"""
import importlib.util, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
    import yaml
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

# Shared with `helm template`'s generator: values merging and LocateChart's wording.
_spec = importlib.util.spec_from_file_location("gen_template_goldens", os.path.join(ROOT, "scripts", "gen-template-goldens.py"))
template_goldens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(template_goldens)

SEVERITY = ["UNKNOWN", "INFO", "WARNING", "ERROR"]


def run(case):
    args = case.get("args", [])
    opts = {"strict": False, "quiet": False, "with_subcharts": False}
    vals = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--values"):
            with open(os.path.join(ROOT, args[i + 1])) as f:
                template_goldens.merge(vals, helm.values_from_yaml(f.read()) or {})
            i += 2
        elif a == "--set":
            template_goldens.merge(vals, helm.parse_set_string(args[i + 1]))
            i += 2
        elif a == "--kube-version":
            opts["kube_version"] = args[i + 1]
            i += 2
        else:
            opts[a.lstrip("-").replace("-", "_")] = True
            i += 1
    paths = list(case["paths"])
    if opts["with_subcharts"]:
        for p in case["paths"]:
            for dirpath, dirs, files in os.walk(os.path.join(ROOT, p, "charts")):
                dirs.sort()
                if "Chart.yaml" in files:
                    paths.append(os.path.relpath(dirpath, ROOT))
    out, failed, noisy = "", 0, 0
    for p in paths:
        r = helm.lint(os.path.join(ROOT, p), vals, strict=opts["strict"] or None, namespace="default",
                      quiet=opts["quiet"] or None, kube_version=opts.get("kube_version"))
        messages = r.get("messages") or []
        errors = r.get("errors") or []
        bad = any(m["severity"] > 1 for m in messages) or bool(errors)
        noisy += bad
        if opts["quiet"] and not bad:
            continue
        out += "==> Linting %s\n" % p
        if not messages:
            for e in errors:
                out += "Error %s\n" % e
        for m in messages:
            if not opts["quiet"] or m["severity"] > 1:
                out += "[%s] %s: %s\n" % (SEVERITY[m["severity"]], m["path"], m["error"])
        failed += bool(errors)
        out += "\n"
    summary = "%d chart(s) linted, %d chart(s) failed" % (len(paths), failed)
    if failed:
        return out, 1, "Error: " + summary
    if not opts["quiet"] or noisy:
        out += summary + "\n"
    return out, 0, ""


def main():
    with open(os.path.join(ROOT, "tests", "lint", "cases.yaml")) as f:
        cases = yaml.safe_load(f)
    wanted = set(sys.argv[1:])
    for case in cases:
        if wanted and case["name"] not in wanted:
            continue
        out, code, err = run(case)
        with open(os.path.join(ROOT, "tests", "lint", "golden", case["name"] + ".out"), "w") as f:
            f.write("exit %d\n%s\n%s" % (code, err, out))
        print(case["name"], code)


if __name__ == "__main__":
    main()
