//! What the release commands print besides the action's text: `--wait` progress on stderr,
//! a release as a table, JSON or YAML, and tables.

use std::io::IsTerminal;
use std::time::Duration;

use rudder_action::release as rel;
use rudder_action::{self as action, Error};

/// The progress of `--wait`, on stderr so that stdout stays what Helm prints. On a terminal,
/// a live line per resource (indicatif); elsewhere, a plain line whenever the state changes.
pub fn progress_printer() -> impl FnMut(&[rel::Readiness]) {
    let mut live = std::io::stderr()
        .is_terminal()
        .then(LiveWaitDisplay::default);
    let mut last_line = String::new();
    move |states: &[rel::Readiness]| {
        if let Some(display) = live.as_mut() {
            display.update(states);
            return;
        }
        let line = plain_wait_line(states);
        let first = last_line.is_empty();
        if line != last_line && !(first && states.iter().all(|s| s.ready)) {
            eprintln!("{line}");
        }
        last_line = line;
    }
}

/// One line telling what a wait is still waiting for.
fn plain_wait_line(states: &[rel::Readiness]) -> String {
    let pending: Vec<String> = states
        .iter()
        .filter(|s| !s.ready)
        .map(|s| format!("{} ({})", s.resource, s.detail))
        .collect();
    if pending.is_empty() {
        return format!("all {} resources are ready", states.len());
    }
    format!(
        "waiting for {} of {} resources to be ready: {}",
        pending.len(),
        states.len(),
        pending.join(", ")
    )
}

/// A spinner per resource that turns into a check mark once the resource is ready.
#[derive(Default)]
struct LiveWaitDisplay {
    bars: indicatif::MultiProgress,
    by_resource: std::collections::HashMap<String, indicatif::ProgressBar>,
}

impl LiveWaitDisplay {
    fn update(&mut self, states: &[rel::Readiness]) {
        let width = states.iter().map(|s| s.resource.len()).max().unwrap_or(0);
        for s in states {
            let bar = self
                .by_resource
                .entry(s.resource.clone())
                .or_insert_with(|| {
                    let bar = self.bars.add(indicatif::ProgressBar::new_spinner());
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{spinner} {prefix} {msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(format!("{:width$}", s.resource));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
            if bar.is_finished() {
                continue;
            }
            if s.ready {
                bar.set_style(
                    indicatif::ProgressStyle::with_template("✓ {prefix} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.finish_with_message("ready");
            } else {
                bar.set_message(s.detail.clone());
            }
        }
    }
}

impl Drop for LiveWaitDisplay {
    fn drop(&mut self) {
        // A wait that failed leaves its last state on screen.
        for bar in self.by_resource.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

pub fn print_release(
    release: &rel::Release,
    output: &str,
    hide_notes: bool,
    debug: bool,
) -> Result<String, Error> {
    match output {
        "json" => Ok(format!("{}\n", release_json(release))),
        "yaml" => Ok(json_to_yaml(&release_json(release))),
        _ => Ok(rel::status_text(release, false, debug, hide_notes)),
    }
}

/// The release as `-o json` prints it (Helm marshals the release record itself).
fn release_json(release: &rel::Release) -> serde_json::Value {
    serde_json::to_value(release).unwrap_or_default()
}

pub fn json_to_yaml(j: &serde_json::Value) -> String {
    let v = rudder_value::json::from_json(&j.to_string()).unwrap_or_default();
    rudder_value::yaml::to_yaml(&v).unwrap_or_default()
}

pub fn table(rows: Vec<Vec<String>>) -> String {
    action::table(&rows, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(resource: &str, ready: bool, detail: &str) -> rel::Readiness {
        rel::Readiness {
            resource: resource.into(),
            ready,
            detail: detail.into(),
        }
    }

    #[test]
    fn plain_wait_lines_name_what_is_pending_and_why() {
        let states = [
            state("ConfigMap/c", true, "ready"),
            state("Deployment/web", false, "1/3 replicas ready"),
            state("PersistentVolumeClaim/data", false, "Pending"),
        ];
        assert_eq!(
            plain_wait_line(&states),
            "waiting for 2 of 3 resources to be ready: Deployment/web (1/3 replicas ready), PersistentVolumeClaim/data (Pending)"
        );
        assert_eq!(
            plain_wait_line(&[state("ConfigMap/c", true, "ready")]),
            "all 1 resources are ready"
        );
    }
}
