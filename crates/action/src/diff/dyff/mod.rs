//! `--output dyff`: the changes as homeport/dyff's human report, which helm-diff prints for
//! this format (diff/report.go `printDyffReport`, v3.15.11, with dyff v1.12.0). helm-diff
//! writes each entry's two sides as one document of an "old" and a "new" YAML stream (the
//! lines of its line diff, so Secrets are already masked and `--suppress-output-line-regex`
//! has already dropped lines), then has dyff compare the streams with Kubernetes entity
//! detection (documents matched by apiVersion, kind, namespace and name) and whitespace
//! changes ignored, and prints dyff's report without its banner.
//!
//! What is compared and printed follows dyff's pkg/dyff/core.go (maps by key, lists by an
//! identifying field such as `name`, or as Kubernetes objects, or by content; order changes
//! reported) and output_human.go (a path per difference, then `±`/`+`/`-`/`⇆` blocks; YAML
//! of added and removed parts laid out as gonvenience/neat does, keys ordered as ytbx's
//! `RestructureObject` orders them; blocks side by side when they fit the terminal width, 80
//! columns when stdout is not a terminal). Scalars are typed as go-yaml v3 types them. See
//! the README for what differs (comments, rename detection). No Rust crate
//! renders dyff's format, hence this module.

use super::lines::{self, Delta};
use super::{DiffOptions, Entry};

mod compare;
mod human;
mod nodes;
mod paint;

use compare::*;
use human::*;
use nodes::*;
use paint::*;

/// The old and new streams helm-diff hands to dyff: one document per entry, from the
/// entry's line diff.
fn streams(entries: &[Entry]) -> (Vec<String>, Vec<String>) {
    let mut old = Vec::with_capacity(entries.len());
    let mut new = Vec::with_capacity(entries.len());
    for e in entries {
        let (mut o, mut n) = (String::new(), String::new());
        for line in &e.lines {
            if line.delta != Delta::Added {
                o.push_str(&line.text);
                o.push('\n');
            }
            if line.delta != Delta::Removed {
                n.push_str(&line.text);
                n.push('\n');
            }
        }
        old.push(o);
        new.push(n);
    }
    (old, new)
}

/// A dyff failure, as helm-diff prints it.
#[derive(Debug, thiserror::Error)]
#[error("dyff: {0}")]
pub struct Error(#[source] DyffError);

/// The dyff report of a diff's entries.
pub fn render(entries: &[Entry], opts: &DiffOptions) -> Result<String, Error> {
    let (old, new) = streams(entries);
    let read = |docs: &[String], side: &'static str| -> Result<Vec<Node>, Error> {
        docs.iter()
            .map(|d| read_document(d).map_err(|message| Error(DyffError::Read { side, message })))
            .collect()
    };
    let (from, to) = (read(&old, "old")?, read(&new, "new")?);
    let (streams, diffs) = compare_streams(from, to).map_err(Error)?;
    let writer = Writer {
        paint: Paint { on: opts.color },
        width: opts.terminal_width,
        streams: &streams,
    };
    let show_root = streams.from.len() > 1;
    let mut out = String::new();
    for d in &diffs {
        writer.difference(&mut out, d, show_root);
    }
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Change;

    fn entry(old: &str, new: &str) -> Entry {
        Entry {
            key: String::new(),
            kind: String::new(),
            change: Change::Modify,
            lines: lines::diff_texts(old, new, false),
            managers: Vec::new(),
            structured: None,
        }
    }

    fn render_plain(entries: &[Entry]) -> String {
        render(entries, &DiffOptions::default()).unwrap()
    }

    const DEPLOY: &str = "# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n";

    /// dyff output_human.go `generateHumanDetailOutputModification` (default case) and
    /// `writeStringDiff`: a path line, then `± value change` and the two values; one
    /// document, so no document name after the path.
    #[test]
    fn a_changed_value_prints_its_path_and_both_values() {
        let new = DEPLOY
            .replace("replicas: 1", "replicas: 3")
            .replace("app:1", "app:2");
        assert_eq!(
            render_plain(&[entry(DEPLOY, &new)]),
            "\nspec.replicas\n± value change\n- 1\n+ 3\n\nspec.template.spec.containers.app.image\n± value change\n- app:1\n+ app:2\n\n"
        );
    }

    /// Several documents: each path names its document (`apiVersion/kind/name`), added and
    /// removed documents print as YAML, keys in ytbx's order, the `# Source:` comment first.
    #[test]
    fn added_and_removed_documents_print_as_yaml() {
        let cm = "# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n";
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n  - port: 80\n";
        let new = DEPLOY.replace("replicas: 1", "replicas: 2");
        let entries = [entry(DEPLOY, &new), entry(svc, ""), entry("", cm)];
        assert_eq!(
            render_plain(&entries),
            "\nspec.replicas  (apps/v1/Deployment/web)\n± value change\n- 1\n+ 2\n\
             \n(root level)  (v1/Service/svc)\n- one document removed:\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n  - port: 80\n\
             \n(root level)  (v1/ConfigMap/cm)\n+ one document added:\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n\
             \n(file level)\n⇆ order changed\n- apps/v1/Deployment/web, v1/Service/svc\n+ apps/v1/Deployment/web, v1/ConfigMap/cm\n\n"
        );
    }

    /// core.go `mappingNodes` and `namedEntryLists`: removed and added keys of one map in one
    /// difference, side by side when they fit in 80 columns; list entries by `name`.
    #[test]
    fn map_entries_and_named_list_entries() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    a: x\ndata:\n  env:\n    k: v\n";
        let new = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    b: y\ndata:\n  env:\n    k: v\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nmetadata.labels\n- one map entry removed:   + one map entry added:\na: x                       b: y\n\n"
        );
        let old = "kind: X\napiVersion: v1\nmetadata:\n  name: x\nitems:\n- name: a\n  v: 1\n- name: b\n  v: 2\n";
        let new = "kind: X\napiVersion: v1\nmetadata:\n  name: x\nitems:\n- name: b\n  v: 3\n- name: a\n  v: 1\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nitems\n⇆ order changed\n- a, b\n+ b, a\n\nitems.b.v\n± value change\n- 2\n+ 3\n\n"
        );
    }

    /// `writeStringDiff`'s multi-line case: counted inserts and deletions, the changed lines.
    #[test]
    fn multiline_text_changes_show_the_changed_lines() {
        let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  conf: |\n    a=1\n    b=2\n    c=3\n";
        let new = old.replace("b=2", "b=20");
        assert_eq!(
            render_plain(&[entry(old, &new)]),
            "\ndata.conf\n± value change in multiline text (one insert, one deletion)\n- b=2\n+ b=20\n\n\n"
        );
    }

    /// go-yaml v3 types `"3"` as a string and `3` as an int: a type change.
    #[test]
    fn scalar_types_follow_go_yaml_v3() {
        let old = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nv: 3\nw: yes\n";
        let new = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nv: \"3\"\nw: 'yes'\n";
        assert_eq!(
            render_plain(&[entry(old, new)]),
            "\nv\n± type change from int to string\n- 3\n+ \"3\"\n\n"
        );
        assert_eq!(resolve("0x1F", true, None), INT);
        assert_eq!(resolve("1_000", true, None), INT);
        assert_eq!(resolve("1.5e3", true, None), FLOAT);
        assert_eq!(resolve("2001-12-14", true, None), TIMESTAMP);
        assert_eq!(
            resolve("2001-12-14t21:59:43.10-05:00", true, None),
            TIMESTAMP
        );
        assert_eq!(resolve("2001-12-14 21:59:43.10", true, None), TIMESTAMP);
        // time.Parse cannot read these (go-yaml v3's resolve.go says as much of the first).
        assert_eq!(resolve("2001-12-14 21:59:43.10 -5", true, None), STR);
        assert_eq!(resolve("2001-02-30", true, None), STR);
        assert_eq!(resolve(".5", true, None), FLOAT);
        assert_eq!(resolve(".x", true, None), STR);
        assert_eq!(resolve("08", true, None), FLOAT);
        assert_eq!(resolve("on", true, None), STR);
        assert_eq!(resolve("1.2.3", true, None), STR);
    }

    /// Nothing changed (an empty report) prints one empty line, as dyff ends every report.
    #[test]
    fn no_entries_print_one_newline() {
        assert_eq!(render_plain(&[]), "\n");
    }

    /// `writeTextBlocks`: blocks wider than the terminal go one after the other, each block's
    /// lines followed by a newline.
    #[test]
    fn blocks_too_wide_for_the_terminal_are_stacked() {
        let blocks = ["- x:\n  a\n".to_string(), "+ y:\n  b\n".to_string()];
        let streams = Streams {
            from: Vec::new(),
            to: Vec::new(),
            from_names: Vec::new(),
            to_names: Vec::new(),
        };
        let w = Writer {
            paint: Paint { on: false },
            width: 10,
            streams: &streams,
        };
        let mut out = String::new();
        w.text_blocks(&mut out, 0, &blocks);
        assert_eq!(out, "- x:\n  a\n\n+ y:\n  b\n\n");
        let w = Writer { width: 80, ..w };
        let mut out = String::new();
        w.text_blocks(&mut out, 0, &blocks);
        assert_eq!(out, "- x:   + y:\n  a      b\n");
    }

    #[test]
    fn neat_quotes_strings_that_read_as_other_types() {
        let mut out = String::new();
        let node = Node::Mapping(vec![
            Pair {
                key: "a".into(),
                comment: None,
                value: Node::text("true"),
            },
            Pair {
                key: "b".into(),
                comment: None,
                value: Node::text("a: b"),
            },
            Pair {
                key: "c".into(),
                comment: None,
                value: Node::text("plain"),
            },
            Pair {
                key: "d".into(),
                comment: None,
                value: Node::text("x\ny"),
            },
        ]);
        Neat {
            paint: &Paint { on: false },
            schema: Some(&GREENISH),
        }
        .node(&node, "", false, &mut out);
        assert_eq!(out, "a: \"true\"\nb: \"a: b\"\nc: plain\nd: |\n  x\n  y\n");
    }

    /// output_human.go `writeStringDiff` and `certificateSummaryAsYAML`: two PEM certificates
    /// print as their summaries, in two columns when they fit. The certificates were made for
    /// this test with `openssl req -x509 -subj "/CN=one.example/O=Rudder Test/C=DE"
    /// -set_serial 4660 -days 30` (and `two.example`).
    #[test]
    fn certificates_print_as_their_summaries() {
        const ONE: &str = "-----BEGIN CERTIFICATE-----\nMIIBtjCCAVugAwIBAgICEjQwCgYIKoZIzj0EAwIwOTEUMBIGA1UEAwwLb25lLmV4\nYW1wbGUxFDASBgNVBAoMC1J1ZGRlciBUZXN0MQswCQYDVQQGEwJERTAeFw0yNjEy\nMDUyMjU3MjhaFw0yNzAxMDQyMjU3MjhaMDkxFDASBgNVBAMMC29uZS5leGFtcGxl\nMRQwEgYDVQQKDAtSdWRkZXIgVGVzdDELMAkGA1UEBhMCREUwWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAAQoXrWDn71+mCV0BlkH4uB0bygTWblGhS7mANWT0C9nB4hV\nhIs3DfsAFmPnIwL7VCpAjcaWRK4ivJA2cNnuKWOso1MwUTAdBgNVHQ4EFgQUdLyV\nUSSazPtWrV7od+Ooq8UyQp4wHwYDVR0jBBgwFoAUdLyVUSSazPtWrV7od+Ooq8Uy\nQp4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAxhgDv6zsC1BJ\nBMRIUojKoPtvn1kAJ0du/FjKwQOphfMCIQCkNlfbDMwr5Y3G1NyIg98LBl3EcMEL\nJlBiYoM+DCV3CQ==\n-----END CERTIFICATE-----\n";
        const TWO: &str = "-----BEGIN CERTIFICATE-----\nMIIBtjCCAVugAwIBAgICEjQwCgYIKoZIzj0EAwIwOTEUMBIGA1UEAwwLdHdvLmV4\nYW1wbGUxFDASBgNVBAoMC1J1ZGRlciBUZXN0MQswCQYDVQQGEwJERTAeFw0yNjEy\nMDUyMjU3MjlaFw0yNzAxMDQyMjU3MjlaMDkxFDASBgNVBAMMC3R3by5leGFtcGxl\nMRQwEgYDVQQKDAtSdWRkZXIgVGVzdDELMAkGA1UEBhMCREUwWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAAR6AmmNKT3+QWTH46ZYHYhLdf1J9r7lOaRae6JR5+/JNvRx\n4IWji/8rbpW318CAHiW/1u1i2jGVnLej2yvyWk/Xo1MwUTAdBgNVHQ4EFgQUQbGW\nHrB6WbsrSWhpeLOGdiR9MVEwHwYDVR0jBBgwFoAUQbGWHrB6WbsrSWhpeLOGdiR9\nMVEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAziCiBFBTC7x3\nhZjM58/6rP9I8YPPfioSKySOcWqGgCgCIQDcaG0WsFgvrIDAr/HUN8+L5VYWz0gb\n7WQEZfR03eZUhw==\n-----END CERTIFICATE-----\n";
        let doc = |pem: &str| {
            let block: String = pem.lines().map(|l| format!("    {l}\n")).collect();
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: |\n{block}")
        };
        let out = render_plain(&[entry(&doc(ONE), &doc(TWO))]);
        let summary = |cn: &str| certificate_summary(if cn == "one" { ONE } else { TWO }).unwrap();
        assert!(summary("one").starts_with("Subject:\n  Common Name: one.example\n  Organization: Rudder Test\n  Organization Unit: \n  Locality: \n  State: \n  Country: DE\nValidity Period:\n  NotBefore: "), "{}", summary("one"));
        assert!(
            summary("two")
                .ends_with("\nIssuer: two.example, Rudder Test\nSerial Number: 4660 (0x1234)\n"),
            "{}",
            summary("two")
        );
        // Lines after the first are indented as far as the `- ` prefix; the two columns fit
        // in 80, padded to the wider left line, three spaces apart.
        let expected = [
            "",
            "data.ca.crt",
            "± certificate change",
            "- Subject:                               + Subject:",
            "    Common Name: one.example                 Common Name: two.example",
            "    Organization: Rudder Test                Organization: Rudder Test",
            "    Organization Unit:                       Organization Unit:",
            "    Locality:                                Locality:",
            "    State:                                   State:",
            "    Country: DE                              Country: DE",
            "  Validity Period:                         Validity Period:",
            "    NotBefore: Dec 5 22:57:28 2026 UTC       NotBefore: Dec 5 22:57:29 2026 UTC",
            "    NotAfter: Jan 4 22:57:28 2027 UTC        NotAfter: Jan 4 22:57:29 2027 UTC",
            "  Issuer: one.example, Rudder Test         Issuer: two.example, Rudder Test",
            "  Serial Number: 4660 (0x1234)             Serial Number: 4660 (0x1234)",
            // The summaries end with a newline, which createStringWithPrefix turns into an
            // indented empty line: one empty row, then the end of the block and the report.
            "",
            "",
            "",
        ];
        assert_eq!(out, expected.join("\n"));
        assert_eq!(certificate_summary("not a certificate"), None);
    }

    /// helm-diff v3.15.11 diff/report_test.go `TestPrintDyffReportWithAddAndRemove` (lines
    /// 70-105): a removed and an added Deployment. The removal and the addition print as
    /// documents; since each stream then has one named document and the names differ, dyff
    /// also reports the file-level order change (core.go `documentNodes`, lines 409-423).
    #[test]
    fn helm_diff_add_and_remove_test() {
        let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old-app";
        let new = old.replace("old-app", "new-app");
        let removed = Entry {
            change: Change::Remove,
            ..entry(old, "")
        };
        let added = Entry {
            change: Change::Add,
            ..entry("", &new)
        };
        assert_eq!(
            render_plain(&[removed, added]),
            "\n(root level)\n- one document removed:\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old-app\n\
             \n(root level)\n+ one document added:\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: new-app\n\
             \n(file level)\n⇆ order changed\n- apps/v1/Deployment/old-app\n+ apps/v1/Deployment/new-app\n\n"
        );
    }

    /// With colour (forced), bunt writes an escape sequence wherever a character's attributes
    /// change, a reset (`0`) first when bold or italic ends, and a reset at the end (bunt
    /// render.go `String`); dyff's colours (colors.go), neat's greenish schema for added YAML
    /// (keys bold and green, values lime), italic type names in a type change.
    #[test]
    fn colours_follow_bunt_and_dyff_palette() {
        let old = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\n  labels:\n    a: x\nv: 3\n";
        let new = "apiVersion: v1\nkind: X\nmetadata:\n  name: x\n  labels:\n    a: x\n    b: y\nv: \"3\"\n";
        let opts = DiffOptions {
            color: true,
            ..DiffOptions::default()
        };
        let out = render(&[entry(old, new)], &opts).unwrap();
        let yellow = "\x1b[38;2;199;196;63m";
        let expected = format!(
            "\n\x1b[1mmetadata\x1b[0m.\x1b[1mlabels\x1b[0m\n\
             {yellow}+ one map entry added:\x1b[0m\n\
             \x1b[1;38;2;0;128;0mb:\x1b[0m \x1b[38;2;50;205;50my\x1b[0m\n\
             \n\x1b[1mv\x1b[0m\n\
             {yellow}± type change from \x1b[3;38;2;199;196;63mint\x1b[0;38;2;199;196;63m to \x1b[3;38;2;199;196;63mstring\x1b[0m\n\
             \x1b[38;2;185;49;27m- 3\x1b[0m\n\
             \x1b[38;2;88;191;56m+ \"3\"\x1b[0m\n\n"
        );
        assert_eq!(out, expected);
    }

    /// A minor change (a Levenshtein distance of at most four) highlights the changed
    /// characters in bold (output_human.go `highlightRemovals`, `highlightAdditions`).
    #[test]
    fn minor_changes_highlight_the_changed_characters() {
        assert!(is_minor_change("nginx:1.27", "nginx:1.28"));
        assert!(!is_minor_change("abcdefgh", "stuvwxyz"));
        let paint = Paint { on: true };
        let streams = Streams {
            from: Vec::new(),
            to: Vec::new(),
            from_names: Vec::new(),
            to_names: Vec::new(),
        };
        let w = Writer {
            paint,
            width: 80,
            streams: &streams,
        };
        let mut out = String::new();
        w.string_change(&mut out, "app:1", "app:2");
        assert_eq!(
            out,
            "\x1b[38;2;199;196;63m± value change\x1b[0m\n\
             \x1b[38;2;185;49;27m- \x1b[0m\x1b[38;2;255;160;122mapp:\x1b[0m\x1b[1;38;2;185;49;27m1\x1b[0m\n\
             \x1b[38;2;88;191;56m+ \x1b[0m\x1b[38;2;144;238;144mapp:\x1b[0m\x1b[1;38;2;88;191;56m2\x1b[0m\n"
        );
    }
}
