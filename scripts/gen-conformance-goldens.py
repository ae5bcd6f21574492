#!/usr/bin/env python3
"""Generates tests/conformance/golden/*.json from tests/conformance/cases/*.case with real Helm.

Each case is written out as a small chart and rendered by Helm v4.2.3 (helm-python-sdk's
Chart.load(dir).render(...)), as an install of release `release-name` in namespace `default`.
Usage: scripts/gen-conformance-goldens.py [CASEFILE ...]   (default: every case file)
Re-executes itself with the venv from scripts/helm-venv when helm_python is not importable.
"""
import json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

CASE_RE = re.compile(r"^== (\S+) ==$")
FILE_RE = re.compile(r"^-- (\S+) --$")
DEFAULT_CHART = "apiVersion: v2\nname: c\nversion: 0.1.0\n"


def parse_cases(text):
    """[(name, {path: text})] in file order."""
    cases, name, files, path = [], None, None, None
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\n")
        m = CASE_RE.match(bare)
        if m:
            name, files, path = m.group(1), {}, None
            cases.append((name, files))
            continue
        m = FILE_RE.match(bare)
        if m and files is not None:
            path = m.group(1)
            files[path] = ""
            continue
        if path is not None:
            files[path] += line if line.endswith("\n") else line + "\n"
    names = [n for n, _ in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate case names: %s" % ", ".join(sorted(dup)))
    return cases


def render_case(files):
    with tempfile.TemporaryDirectory() as d:
        chart_dir = os.path.join(d, "c")
        os.makedirs(os.path.join(chart_dir, "templates"))
        files = dict(files)
        files.setdefault("Chart.yaml", DEFAULT_CHART)
        for path, text in files.items():
            full = os.path.join(chart_dir, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        try:
            chart = helm.Chart.load(chart_dir)
            try:
                out = chart.render({}, name="release-name", namespace="default")
            finally:
                chart.close()
        except helm.HelmError as e:
            return {"error": str(e)}
        return {"output": {p: t for p, t in sorted(out.items())
                           if not os.path.basename(p).startswith("_")}}


def main():
    case_dir = os.path.join(ROOT, "tests", "conformance", "cases")
    gold_dir = os.path.join(ROOT, "tests", "conformance", "golden")
    paths = sys.argv[1:] or sorted(os.path.join(case_dir, f) for f in os.listdir(case_dir) if f.endswith(".case"))
    for p in paths:
        with open(p) as f:
            cases = parse_cases(f.read())
        result = {name: render_case(files) for name, files in cases}
        out = os.path.join(gold_dir, os.path.basename(p)[:-len(".case")] + ".json")
        with open(out, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        print("%s: %d cases" % (os.path.relpath(out, ROOT), len(result)))


if __name__ == "__main__":
    main()
