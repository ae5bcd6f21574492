#!/usr/bin/env python3
"""Differential test of the template engine on generated inputs: random pipelines of Sprig,
Helm and built-in functions over values of every kind (strings, numbers from YAML, booleans,
lists, maps, nil, empty ones) are rendered by `rudder template` and by real Helm v4.2.3
(helm-python-sdk's Chart.render), one small chart per case, and the outputs (or the error
texts) compared. Reports each disagreement with its template; exits non-zero if there is any.

With --semver, each template instead compares generated versions with generated constraints
(operators, wildcards, prereleases, metadata, hyphen ranges, AND and OR groups, malformed
ones), the grammar rudder reads by hand rather than with Masterminds' regexes.

  scripts/diff-templates.py [--count N] [--seed S] [--rudder PATH] [--semver]
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

VALUES = """\
s: "Hello World"
w: "  padded  "
u: "héllo wörld"
n: 42
neg: -7
f: 3.5
big: 1e6
b: true
no: false
l: [1, "two", 3.0, true]
ls: ["b", "a", "c", "a"]
m: {a: 1, b: "x", c: [1, 2]}
e: ""
el: []
em: {}
z: null
ver: "1.2.3"
"""

ATOMS = [".Values.s", ".Values.w", ".Values.u", ".Values.n", ".Values.neg", ".Values.f",
         ".Values.big", ".Values.b", ".Values.no", ".Values.l", ".Values.ls", ".Values.m",
         ".Values.e", ".Values.el", ".Values.em", ".Values.z", ".Values.missing", ".Values.ver",
         '"abc"', '"a,b,c"', '""', "1", "0", "-2", "2.5", "true", "nil", ".Release.Name",
         ".Chart.Name", "(list 1 2 3)", '(dict "k" "v")', "(list)", "(dict)"]

# (name, number of extra leading arguments): the piped value comes last, as in Sprig.
FUNCS = [("upper", 0), ("lower", 0), ("title", 0), ("trim", 0), ("quote", 0), ("squote", 0),
         ("toString", 0), ("len", 0), ("kindOf", 0), ("typeOf", 0), ("toJson", 0), ("toYaml", 0),
         ("toPrettyJson", 0), ("b64enc", 0), ("sha256sum", 0), ("empty", 0), ("not", 0),
         ("first", 0), ("last", 0), ("rest", 0), ("initial", 0), ("reverse", 0), ("uniq", 0),
         ("sortAlpha", 0), ("keys", 0), ("compact", 0), ("int", 0), ("int64", 0),
         ("float64", 0), ("atoi", 0), ("toStrings", 0), ("default", 1), ("nindent", 1),
         ("indent", 1), ("trunc", 1), ("abbrev", 1), ("repeat", 1), ("replace", 2),
         ("contains", 1), ("hasPrefix", 1), ("split", 1), ("splitList", 1), ("join", 1),
         ("add", 1), ("sub", 1), ("mul", 1), ("div", 1), ("mod", 1), ("max", 1), ("min", 1),
         ("addf", 1), ("mulf", 1), ("get", 1), ("hasKey", 1), ("has", 1), ("without", 1),
         ("append", 1), ("prepend", 1), ("concat", 1), ("regexMatch", 1), ("regexFind", 1),
         ("ternary", 2), ("coalesce", 1), ("print", 1), ("printf", 1), ("cat", 1), ("eq", 1),
         ("ne", 1), ("lt", 1), ("ge", 1), ("and", 1), ("or", 1), ("semverCompare", 1),
         ("toDecimal", 0), ("snakecase", 0), ("camelcase", 0), ("kebabcase", 0), ("swapcase", 0),
         ("wrap", 1), ("plural", 2), ("substr", 2), ("trimPrefix", 1), ("trimSuffix", 1),
         ("urlquery", 0), ("js", 0), ("html", 0), ("b32enc", 0), ("adler32sum", 0),
         ("fromYaml", 0), ("fromJson", 0), ("dig", 2), ("pluck", 1), ("index", 1), ("slice", 1),
         ("chunk", 1), ("seq", 0), ("until", 0), ("round", 1), ("ceil", 0), ("floor", 0),
         ("deepCopy", 0), ("toRawJson", 0), ("fromYamlArray", 0), ("fromJsonArray", 0)]

ARG_ATOMS = ['"o"', '"0"', '"-"', '" "', '","', "2", "3", "0", "-1", "1.5", '"a"', '"k"',
             '"b"', '"%v-%d"', '"[a-z]+"', '">=1.0.0"', '"~1.2"', "true", "nil", ".Values.m",
             ".Values.l", ".Values.s", ".Values.n", ".Values.z", '"c"', '"x"']


def expr(rng, depth=0):
    if depth > 2 or rng.random() < 0.35:
        return rng.choice(ATOMS)
    name, extra = rng.choice(FUNCS)
    args = [rng.choice(ARG_ATOMS) for _ in range(extra)]
    inner = expr(rng, depth + 1)
    if rng.random() < 0.5:
        return "(%s | %s)" % (inner, " ".join([name] + args))
    return "(%s)" % " ".join([name] + args + [inner])


SEMVER_OPS = ["", "", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"] * 4 + ["==", "!"]


def semver_version(rng, wildcards):
    numbers = ["0", "1", "2", "10", "3"] * 3 + ["01"] + (["x", "X", "*"] * 2 if wildcards else [])
    text = ("v" if rng.random() < 0.1 else "") + rng.choice(numbers)
    for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3])):
        text += "." + rng.choice(numbers + ([""] if rng.random() < 0.05 else []))
    if rng.random() < 0.25:
        text += "-" + rng.choice(["0", "rc.1", "alpha", "beta.2", "a-b"] * 3 + ["01", "", "rc..1"])
    if rng.random() < 0.1:
        text += "+" + rng.choice(["build.5", "meta"] * 4 + ["", "a+b"])
    return text


def semver_template(rng):
    lines = []
    for _ in range(rng.choice([1, 1, 1, 2])):
        groups = []
        for _ in range(rng.choice([1, 1, 1, 2])):
            parts = []
            for _ in range(rng.choice([1, 1, 2, 3])):
                sp = rng.choice(["", "", " "])
                parts.append(rng.choice(SEMVER_OPS) + sp + semver_version(rng, True))
            if rng.random() < 0.1:
                parts = [semver_version(rng, True) + " - " + semver_version(rng, True)]
            groups.append(rng.choice([" ", ", ", ",", "  "]).join(parts))
        constraint = rng.choice([" || ", "||"]).join(groups)
        if rng.random() < 0.1:
            constraint = " " + constraint + rng.choice(["", " ", "\t"])
        lines.append("{{ semverCompare %s %s }}" % (
            json.dumps(constraint), json.dumps(semver_version(rng, False))))
    return "data: %s\n" % " ".join(lines)


def template(rng):
    lines = []
    for i in range(rng.randint(1, 3)):
        e = expr(rng)
        kind = rng.random()
        if kind < 0.15:
            lines.append("{{- range $i, $v := %s }}[{{ $i }}={{ $v }}]{{- end }}" % e)
        elif kind < 0.3:
            lines.append("{{ if %s }}T{{ else }}F{{ end }}" % e)
        elif kind < 0.4:
            lines.append("{{ with %s }}W{{ . }}{{ else }}none{{ end }}" % e)
        else:
            lines.append("v%d: {{ %s }}" % (i, e))
    # The text goes out as one Go-quoted string, which is valid YAML whatever the pipelines
    # printed: both sides read rendered manifests back as YAML.
    return ('{{- define "body" }}\n' + "\n".join(lines) + '\n{{- end }}\n'
            'data: {{ printf "%q" (include "body" .) }}\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rudder", default=os.path.join(ROOT, "target", "release", "rudder"))
    ap.add_argument("--semver", action="store_true", help="generate semverCompare templates")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="diff-templates-")
    values = helm.values_from_yaml(VALUES)
    bad = both_failed = 0
    try:
        for n in range(a.count):
            text = semver_template(rng) if a.semver else template(rng)
            chart = os.path.join(work, "c%d" % n)
            os.makedirs(os.path.join(chart, "templates"))
            with open(os.path.join(chart, "Chart.yaml"), "w") as f:
                f.write("apiVersion: v2\nname: c\nversion: 0.1.0\nappVersion: 1.0.0\n")
            with open(os.path.join(chart, "values.yaml"), "w") as f:
                f.write(VALUES)
            with open(os.path.join(chart, "templates", "t.yaml"), "w") as f:
                f.write(text)
            loaded = helm.Chart.load(chart)
            try:
                want, want_err = loaded.render(values, name="r", namespace="default")["c/templates/t.yaml"], None
            except helm.HelmError as e:
                want, want_err = None, str(e)
            finally:
                loaded.close()
            out_dir = os.path.join(work, "out%d" % n)
            out = subprocess.run([a.rudder, "template", "r", chart, "--output-dir", out_dir],
                                 capture_output=True, text=True)
            got = None
            if out.returncode == 0:
                path = os.path.join(out_dir, "c", "templates", "t.yaml")
                got = open(path).read() if os.path.exists(path) else ""
            shutil.rmtree(chart)
            if want is not None and got is not None:
                # --output-dir writes `---\n# Source: ...\n` before the text.
                got = got.split("\n", 2)[2] if got.startswith("---") else got
                if got.strip() == want.strip():
                    continue
            elif want is None and got is None:
                g = out.stderr.strip().splitlines()[0].removeprefix("Error: ")
                w = want_err.strip().splitlines()[0]
                if g == w:
                    both_failed += 1
                    continue
            bad += 1
            print("DIFF  template:\n%s" % text.rstrip("\n"))
            print("   helm:  ", repr(want) if want is not None else "error: " + want_err[:400])
            print("   rudder:", repr(got) if got is not None else "error: " + out.stderr.strip()[:400])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d templates (%d failing alike on both sides), %d disagreements" % (a.count, both_failed, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
