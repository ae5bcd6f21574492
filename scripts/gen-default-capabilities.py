#!/usr/bin/env python3
"""Writes crates/engine/src/default_capabilities.txt: what real Helm (v4.2.3 through helm-python-sdk)
exposes offline as .Capabilities, so `rudder template` can offer the same defaults.

Line 1: KubeVersion.Version; line 2: the HelmVersion struct fields as `%v` prints them; then one
APIVersions entry per line, in Helm's order.
"""
import os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

TEMPLATE = """{{ .Capabilities.KubeVersion.Version }}
{{ .Capabilities.HelmVersion.Version }}|{{ .Capabilities.HelmVersion.GitCommit }}|{{ .Capabilities.HelmVersion.GitTreeState }}|{{ .Capabilities.HelmVersion.GoVersion }}|{{ .Capabilities.HelmVersion.KubeClientVersion }}
{{ range .Capabilities.APIVersions }}{{ . }}
{{ end }}"""

with tempfile.TemporaryDirectory() as d:
    os.makedirs(os.path.join(d, "c", "templates"))
    open(os.path.join(d, "c", "Chart.yaml"), "w").write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    open(os.path.join(d, "c", "templates", "t.yaml"), "w").write(TEMPLATE)
    out = helm.Chart.load(os.path.join(d, "c")).render({}, name="r", namespace="default")["c/templates/t.yaml"]
with open(os.path.join(ROOT, "crates", "engine", "src", "default_capabilities.txt"), "w") as f:
    f.write(out)
print(out.splitlines()[:3], len(out.splitlines()) - 2, "api versions")
