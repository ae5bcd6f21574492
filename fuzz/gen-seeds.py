#!/usr/bin/env python3
"""Writes a small seed corpus for every fuzz target: gen-seeds.py OUTDIR makes OUTDIR/<target>/.

Seeds are generated rather than committed so that the repository holds no binary archives;
each is a few hundred bytes, enough to show libFuzzer the shape of a valid input.
"""
import io, json, os, sys, tarfile


def tar_bytes(entries, fmt=tarfile.USTAR_FORMAT):
    """An uncompressed tar of (name, data, pax_headers, type) entries."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data, pax, kind in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname, info.size, data = data.decode(), 0, b""
            if pax:
                info.pax_headers = pax
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


CHART = b"apiVersion: v2\nname: c\nversion: 0.1.0\n"
REG = tarfile.REGTYPE

SEEDS = {
    "chart_archive": {
        "ustar": tar_bytes([("c/Chart.yaml", CHART, None, REG),
                            ("c/values.yaml", b"a: 1\n", None, REG),
                            ("c/templates/t.yaml", b"x: {{ .Values.a }}\n", None, REG)]),
        "pax-size": tar_bytes([("c/Chart.yaml", CHART, {"size": str(len(CHART))}, REG)],
                              tarfile.PAX_FORMAT),
        "gnu-long-name": tar_bytes([("c/Chart.yaml", CHART, None, REG),
                                    ("c/templates/" + "n" * 120 + ".yaml", b"a: b\n", None, REG)],
                                   tarfile.GNU_FORMAT),
        "duplicates": tar_bytes([("c/Chart.yaml", CHART, None, REG),
                                 ("c/Chart.yaml", CHART.replace(b"0.1.0", b"0.2.0"), None, REG),
                                 ("c/templates/a.yaml", b"a: 1\n", None, REG),
                                 ("c/templates/a.yaml", b"a: 2\n", None, REG)]),
        "symlink-and-subchart": tar_bytes([("c/Chart.yaml", CHART, None, REG),
                                           ("c/link", b"../../etc/passwd", None, tarfile.SYMTYPE),
                                           ("c/charts/s/Chart.yaml", CHART.replace(b"c\n", b"s\n"), None, REG)]),
    },
    "index_yaml": {
        "index": b"apiVersion: v1\nentries:\n  c:\n  - name: c\n    version: 0.1.0\n    urls: [c-0.1.0.tgz]\n"
                 b"    digest: abc\n    created: 2024-01-01T00:00:00Z\ngenerated: 2024-01-01T00:00:00Z\n",
        "flow": b'{"apiVersion": "v1", "entries": {"c": [{"name": "c", "version": "1.0.0", "urls": ["u"]}]}}\n',
        "aliases": b"apiVersion: v1\nentries:\n  c:\n  - &e {name: c, version: 1.0.0}\n  - *e\n",
        "nested": b"apiVersion: v1\nentries: " + b"[" * 50 + b"]" * 50 + b"\n",
    },
    "glob": {
        "star": b"*.yaml\ntemplates/a.yaml\nb.txt",
        "alternatives": b"{a,b}/**.conf\na/x/y.conf\nc/y.conf",
        "classes": b"[a-c]?[!x]\nbay\nbax",
        "many-stars": b"*a*a*a*a*b\n" + b"a" * 60,
        "escapes": b"a\\*[\\]]\na*]",
    },
    "set_values": {
        "paths": b"a=b,c.d[0]=e,f[1].g=h",
        "list": b"a={x,y},b=null",
        "json": b'a={"k":[1,2,{"x":null}]}',
        "escapes": b"a\\.b=c\\,d",
    },
    "semver": {
        "ranges": b">=1.0.0 <2.0.0 || ~3.1\n1.2.3\n3.1.4-rc.1",
        "caret": b"^0.0.1\n0.0.1\n0.0.2",
        "wildcards": b"1.x\nv1.2\n1.2.3+build.5",
        "hyphen": b"1.2 - 3.4.5\n2.0.0-alpha",
    },
    "release_record": {
        "release": json.dumps({"name": "r", "namespace": "ns", "version": 1,
                               "info": {"status": "deployed", "first_deployed": "2024-01-01T00:00:00Z",
                                        "last_deployed": "2024-01-01T00:00:00Z", "deleted": ""},
                               "chart": {"metadata": {"name": "c", "version": "0.1.0", "apiVersion": "v2"},
                                         "templates": [], "values": {"a": 1}},
                               "config": {}, "manifest": "---\nkind: A\n", "hooks": []}).encode(),
    },
    "oci": {
        "reference": b"oci://localhost:5000/charts/c:1.0.0\n1.0.0\n0.9.0\n1.0.0+b",
        "digest": b"localhost/c@sha256:" + b"a" * 64 + b"\n",
        "bearer": b'Bearer realm="https://auth/token",service="registry",scope="repository:c:pull"\n1.0.0',
        "config": b'{"name": "c", "version": "1.0.0", "apiVersion": "v2"}',
    },
    "template_production": {
        "values": b'{{ range $k, $v := .c }}{{ $k }}={{ $v | quote }}{{ end }}',
        "define": b'{{ define "t" }}{{ . | toYaml | indent 2 }}{{ end }}{{ include "t" .b }}',
        "printf": b'{{ printf "%*d|%.*f|%-5s|%x" 3 1 2 1.5 "ab" 255 }}',
        "floats": b"{{ addf 0.1 0.2 }} {{ divf 1 3 }} {{ mulf 1e20 1e20 }}",
        "with": b"{{ with .a }}{{ . }}{{ else }}none{{ end }}{{ tpl \"{{ .a }}\" . }}",
    },
    "template": {
        "values": b"{{ .a }} {{ .b }} {{ toYaml .c }}",
        "range": b"{{ range 3 }}{{ . }}{{ end }}",
    },
    "yaml": {
        "block": b"a: 1\nb:\n  - x\n  - y: z\n",
        "flow": b"{a: [1, 2, {b: c}], d: 'e'}\n",
        "anchors": b"x: &a {k: v}\ny: *a\nz:\n  <<: *a\n",
        "literal": b"s: |\n  line\n  two\n",
    },
}


def main():
    out = sys.argv[1]
    for target, seeds in SEEDS.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
