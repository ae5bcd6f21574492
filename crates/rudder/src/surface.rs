//! rudder's commands and flags against Helm v4.2.3's (tests/surface/helm-v4.2.3-commands.tsv,
//! written by scripts/gen-helm-surface.py from Helm's cmd sources). Every difference must be
//! listed in tests/surface/differences.tsv with its reason; a new one, or one that is gone,
//! fails the test so the list stays true.

use std::collections::BTreeSet;

use clap::CommandFactory;

const HELM: &str = include_str!("../../../tests/surface/helm-v4.2.3-commands.tsv");
const LISTED: &str = include_str!("../../../tests/surface/differences.tsv");

/// (command path, flag) pairs; a command alone has an empty flag. rudder is named `helm`.
fn rudder_surface() -> BTreeSet<(String, String)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut BTreeSet<(String, String)>) {
        out.insert((path.to_string(), String::new()));
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            // clap's own --help, and the root's --version (Helm has the `version` command only).
            if long == "help" || (long == "version" && path == "helm") {
                continue;
            }
            // Globals are listed once, on the root.
            if arg.is_global_set() && path.contains(' ') {
                continue;
            }
            out.insert((path.to_string(), format!("--{long}")));
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut out = BTreeSet::new();
    let mut root = crate::Cli::command();
    root.build();
    walk(&root, "helm", &mut out);
    out
}

fn helm_surface() -> BTreeSet<(String, String)> {
    HELM.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((
                cols.next()?.to_string(),
                cols.next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

#[test]
fn commands_and_flags_match_helm_but_for_the_listed_differences() {
    let helm = helm_surface();
    let ours = rudder_surface();
    let helm_commands: BTreeSet<&String> = helm.iter().map(|(c, _)| c).collect();
    let our_commands: BTreeSet<&String> = ours.iter().map(|(c, _)| c).collect();
    let mut found = BTreeSet::new();
    for (cmd, flag) in helm.difference(&ours) {
        // A missing command is listed once, not with each of its flags.
        if flag.is_empty() || our_commands.contains(cmd) {
            found.insert(("missing".to_string(), cmd.clone(), flag.clone()));
        }
    }
    for (cmd, flag) in ours.difference(&helm) {
        if flag.is_empty() || helm_commands.contains(cmd) {
            found.insert(("extra".to_string(), cmd.clone(), flag.clone()));
        }
    }
    let listed: BTreeSet<(String, String, String)> = LISTED
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                cols.len() >= 4 && !cols[3].is_empty(),
                "no reason given: {l}"
            );
            (
                cols[0].to_string(),
                cols[1].to_string(),
                cols[2].to_string(),
            )
        })
        .collect();
    let unlisted: Vec<String> = found
        .difference(&listed)
        .map(|(k, c, f)| format!("{k}\t{c}\t{f}\t"))
        .collect();
    let stale: Vec<String> = listed
        .difference(&found)
        .map(|(k, c, f)| format!("{k}\t{c}\t{f}"))
        .collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "differences not listed in tests/surface/differences.tsv:\n{}\nlisted but gone:\n{}",
        unlisted.join("\n"),
        stale.join("\n")
    );
}
