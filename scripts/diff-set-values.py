#!/usr/bin/env python3
"""Differential test of `--set` on generated inputs: random `--set` expressions (nested keys,
list indices, escaped commas and dots, `{a,b}` lists, numbers, booleans, null, odd spacing)
are given to `rudder template` and to real Helm v4.2.3 (helm-python-sdk's parse_set_string,
which is Helm's strvals.ParseInto, then a render of the same chart), and the resulting
`.Values` (as toJson prints them) compared. Reports each disagreement with its expression;
exits non-zero if there is any.

  scripts/diff-set-values.py [--count N] [--seed S] [--rudder PATH]
"""
import argparse, json, os, random, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

KEYS = ["a", "b", "name", "x_y", "k-1", "A", "a\\.b", "url", "0"]
SCALARS = ["1", "0", "-3", "1.5", "1e3", "007", "0x1F", "true", "false", "null", "~", "yes",
           "", "abc", "a b", "a\\,b", "a=b", "x:y", "[1]", "\\\\", "\"q\"", "1.0", "9223372036854775808"]


def key_path(rng):
    parts = []
    for _ in range(rng.randint(1, 3)):
        k = rng.choice(KEYS)
        if rng.random() < 0.25:
            k += "[%d]" % rng.randint(0, 2)
        parts.append(k)
    return ".".join(parts)


def value(rng):
    if rng.random() < 0.15:
        return "{" + ",".join(rng.choice(SCALARS) for _ in range(rng.randint(0, 3))) + "}"
    return rng.choice(SCALARS)


def expression(rng):
    pairs = []
    for _ in range(rng.randint(1, 3)):
        pairs.append("%s=%s" % (key_path(rng), value(rng)))
    text = ",".join(pairs)
    if rng.random() < 0.05:
        text = text.replace("=", "", 1)  # a malformed pair now and then
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rudder", default=os.path.join(ROOT, "target", "release", "rudder"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    chart = tempfile.mkdtemp(prefix="diff-set-")
    os.makedirs(os.path.join(chart, "templates"))
    with open(os.path.join(chart, "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    with open(os.path.join(chart, "templates", "values.yaml"), "w") as f:
        f.write("values: {{ toJson .Values }}\n")
    loaded = helm.Chart.load(chart)
    bad = 0
    try:
        for _ in range(a.count):
            expr = expression(rng)
            try:
                want = loaded.render(helm.parse_set_string(expr), name="r", namespace="default")["c/templates/values.yaml"]
            except helm.HelmError as e:
                want = None
                want_err = str(e)
            out = subprocess.run([a.rudder, "template", "r", chart, "--set", expr],
                                 capture_output=True, text=True)
            got = out.stdout.split("\n", 2)[2] if out.returncode == 0 else None
            if want is None and got is None:
                continue
            if want is not None and got is not None and got.rstrip("\n") == want.rstrip("\n"):
                continue
            bad += 1
            print("DIFF  --set %r" % expr)
            print("   helm:  ", want.strip() if want is not None else "error: " + want_err)
            print("   rudder:", got.strip() if got is not None else "error: " + out.stderr.strip())
    finally:
        loaded.close()
    print("%d expressions, %d disagreements" % (a.count, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
