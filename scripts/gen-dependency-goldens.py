#!/usr/bin/env python3
"""Generates the goldens of `helm dependency list` with real Helm v4.2.3 (helm-python-sdk
0.2.2's `dependency_list`, which returns each declared dependency's name, version, repository
and status).

It first packages tests/dependency/src/b into tests/dependency/charts/parent/charts/ with
Helm (`package`), then writes tests/dependency/golden/<case>.json for:
  parent  - tests/dependency/charts/parent (unpacked, packaged, missing, wrong and invalid
            versions, and a subchart Chart.yaml does not declare)
  milvus  - charts/milvus (its subcharts unpacked in charts/)
Usage: scripts/gen-dependency-goldens.py
"""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

BASE = os.path.join(ROOT, "tests", "dependency")
CASES = {
    "parent": os.path.join(BASE, "charts", "parent"),
    "milvus": os.path.join(ROOT, "charts", "milvus"),
}


def main():
    helm.package(os.path.join(BASE, "src", "b"), destination=os.path.join(CASES["parent"], "charts"))
    os.makedirs(os.path.join(BASE, "golden"), exist_ok=True)
    for name, path in CASES.items():
        deps = helm.dependency_list(path)
        with open(os.path.join(BASE, "golden", name + ".json"), "w") as f:
            json.dump(deps, f, indent=2, sort_keys=True)
            f.write("\n")
        print(name, [(d["name"], d["status"]) for d in deps])


main()
