//! `--post-renderer`: a `postrenderer/v1` plugin rewrites the rendered files, as Helm 4's
//! `renderResources` does with its default ("combined") strategy (pkg/action/action.go,
//! `annotateAndMerge` / `splitAndDeannotate`). Every rendered file but partials and NOTES,
//! hooks included, is split into documents; each document gets the annotation
//! `postrenderer.helm.sh/postrender-filename: <file>`; the documents go to the plugin's
//! standard input as one stream; what it prints is split into documents again and put back
//! into files by that annotation (removed again), or `generated-by-postrender-<i>.yaml` for
//! a document without one. Hooks and manifests are then sorted from those files as usual.
//!
//! Helm re-serializes the documents with kyaml, which keeps key order and comments; rudder
//! writes them as Helm's `toYaml` does (keys sorted, no comments), so the text sent to and
//! read back from the plugin is the same data in that layout.

use std::collections::BTreeMap;
use std::path::Path;

use rudder_plugin::{Descriptor, Plugin};
use rudder_value::{Dict, Map, Value};

use crate::Error;

/// Helm's annotation carrying each document's file through the post-renderer.
const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// A `postrenderer/v1` plugin and its arguments (`--post-renderer-args`).
#[derive(Clone, Debug)]
pub struct PostRenderer {
    plugin: Plugin,
    args: Vec<String>,
    /// Helm's `HELM_*` settings, for the plugin's environment.
    settings: Vec<(String, String)>,
}

impl PostRenderer {
    /// Helm's `NewPostRendererPlugin`: the first `postrenderer/v1` plugin named `name` in
    /// the `HELM_PLUGINS` directories.
    pub fn find(
        plugins: &Path,
        name: &str,
        args: Vec<String>,
        settings: Vec<(String, String)>,
    ) -> Result<PostRenderer, Error> {
        let descriptor = Descriptor {
            name: name.to_string(),
            kind: "postrenderer/v1".to_string(),
        };
        let plugin =
            rudder_plugin::find_plugin(&rudder_plugin::split_plugin_dirs(plugins), &descriptor)
                .map_err(|e| Error::message(e.to_string()))?;
        Ok(PostRenderer {
            plugin,
            args,
            settings,
        })
    }

    /// Helm's `postRendererPlugin.Run`: the plugin's output, which must not be blank.
    pub fn run(&self, manifests: &str) -> Result<String, Error> {
        let name = &self.plugin.metadata.name;
        let output = self
            .plugin
            .post_render(manifests, &self.args, &self.settings)
            .map_err(|e| {
                Error::message(format!(
                    "failed to invoke post-renderer plugin {name:?}: {e}"
                ))
            })?;
        if output.trim().is_empty() {
            return Err(Error::message(format!(
                "post-renderer {name:?} produced empty output"
            )));
        }
        Ok(output)
    }
}

fn child_dict(parent: &Dict, key: &str) -> Dict {
    if let Some(Value::Map(d)) = parent.get(key) {
        return d;
    }
    let d = Dict::new(Map::new());
    parent.insert(key, Value::Map(d.clone()));
    d
}

/// kyaml's "empty" for `FieldClearer{IfEmpty}`: a null, or a mapping without fields.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Map(d) => d.is_empty(),
        _ => false,
    }
}

/// Helm's `annotateAndMerge`: the files' documents, in file name order, each annotated with
/// its file, as one stream.
fn annotate_and_merge(files: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut docs = Vec::new();
    for (name, content) in files {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for piece in rudder_engine::split_manifests(content) {
            let parse_error =
                |e: String| Error::message(format!("error merging manifests: parsing {name}: {e}"));
            for doc in rudder_value::yaml::from_yaml_documents(piece)
                .map_err(|e| parse_error(e.to_string()))?
            {
                if doc.is_nil() {
                    continue;
                }
                let Value::Map(top) = &doc else {
                    return Err(parse_error("wrong node kind: expected MappingNode".into()));
                };
                let annotations = child_dict(&child_dict(top, "metadata"), "annotations");
                annotations.insert(FILENAME_ANNOTATION, Value::str(name));
                docs.push(
                    rudder_value::yaml::to_yaml(&doc).map_err(|e| parse_error(e.to_string()))?,
                );
            }
        }
    }
    Ok(docs.join("---\n"))
}

/// Helm's `splitAndDeannotate`: the plugin's documents back into files.
fn split_and_deannotate(output: &str) -> Result<BTreeMap<String, String>, Error> {
    let parse_error =
        |e: String| Error::message(format!("error while parsing post rendered output: {e}"));
    let docs =
        rudder_value::yaml::from_yaml_documents(output).map_err(|e| parse_error(e.to_string()))?;
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, doc) in docs.iter().filter(|d| !d.is_nil()).enumerate() {
        let Value::Map(top) = doc else {
            return Err(parse_error(
                "getting metadata: wrong node kind: expected MappingNode".into(),
            ));
        };
        let mut file = String::new();
        if let Some(Value::Map(metadata)) = top.get("metadata") {
            if let Some(Value::Map(annotations)) = metadata.get("annotations") {
                if let Some(v) = annotations.remove(FILENAME_ANNOTATION) {
                    file = v.as_str().unwrap_or_default().to_string();
                }
            }
            // kio's ByteWriter (kio.StringAll) clears empty annotations, then an empty
            // metadata (kyaml's ClearEmptyAnnotations).
            if metadata.get("annotations").is_some_and(|a| is_empty(&a)) {
                metadata.remove("annotations");
            }
            if metadata.is_empty() {
                top.remove("metadata");
            }
        }
        if file.is_empty() {
            file = format!("generated-by-postrender-{i}.yaml");
        }
        by_file
            .entry(file)
            .or_default()
            .push(rudder_value::yaml::to_yaml(doc).map_err(|e| parse_error(e.to_string()))?);
    }
    Ok(by_file
        .into_iter()
        .map(|(file, docs)| (file, docs.join("---\n")))
        .collect())
}

/// Runs `renderer` over the rendered `files` (NOTES already taken out), replacing them.
pub fn post_render_files(
    files: &mut BTreeMap<String, String>,
    renderer: &PostRenderer,
) -> Result<(), Error> {
    let merged = annotate_and_merge(files)?;
    let output = renderer
        .run(&merged)
        .map_err(|e| Error::message(format!("error while running post render on files: {e}")))?;
    *files = split_and_deannotate(&output)?;
    Ok(())
}

/// `plugin list`'s table (Helm's `newPluginListCmd`), provenance as
/// [`crate::plugin_signing_status`] judges it for plugins under `data_home`.
pub fn plugin_list_table(plugins: &[Plugin], data_home: &std::path::Path) -> String {
    let mut rows = vec![[
        "NAME",
        "VERSION",
        "TYPE",
        "APIVERSION",
        "PROVENANCE",
        "SOURCE",
    ]
    .map(String::from)
    .to_vec()];
    for p in plugins {
        let m = &p.metadata;
        let source = if m.source_url.is_empty() {
            "unknown".to_string()
        } else {
            m.source_url.clone()
        };
        rows.push(vec![
            m.name.clone(),
            m.version.clone(),
            m.kind.clone(),
            m.api_version.clone(),
            crate::plugin_signing_status(m, data_home).into(),
            source,
        ]);
    }
    crate::table(&rows, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_carry_files_through() {
        let files = BTreeMap::from([
            (
                "c/templates/_helpers.tpl".to_string(),
                "kind: X\n".to_string(),
            ),
            (
                "c/templates/a.yaml".to_string(),
                "kind: A\nmetadata:\n  name: a\n---\nkind: B\n".to_string(),
            ),
        ]);
        let merged = annotate_and_merge(&files).unwrap();
        assert_eq!(
            merged,
            "kind: A\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: c/templates/a.yaml\n  name: a\n---\nkind: B\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: c/templates/a.yaml\n"
        );
        let back = split_and_deannotate(&format!("{merged}---\nkind: New\n")).unwrap();
        assert_eq!(
            back,
            BTreeMap::from([
                (
                    "c/templates/a.yaml".to_string(),
                    "kind: A\nmetadata:\n  name: a\n---\nkind: B\n".to_string()
                ),
                (
                    "generated-by-postrender-2.yaml".to_string(),
                    "kind: New\n".to_string()
                ),
            ])
        );
    }
}
