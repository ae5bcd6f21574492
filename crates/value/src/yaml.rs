//! YAML as Helm reads and writes it: `sigs.k8s.io/yaml` over go-yaml v2.
//!
//! Reading ([`from_yaml`]) is go-yaml v2's decoding into `interface{}` followed by the JSON
//! round trip sigs.k8s.io/yaml makes: YAML 1.1 scalars (`yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans, `0777` is octal, dates become RFC 3339 strings), every number ends as a float64,
//! map keys become strings, `<<` merge keys work, only the first document counts. Events come
//! from libyaml itself (`unsafe-libyaml`; go-yaml v2 is a port of libyaml); resolving
//! scalars and building values is ours, because no crate resolves the way go-yaml v2 does.
//!
//! Writing ([`to_yaml`]) is `yaml.Marshal`: the value goes through JSON, then go-yaml v2's
//! encoder and libyaml's emitter lay it out: block style, sequences not indented inside
//! mappings, empty collections as `{}`/`[]`, strings that would read back as another type
//! double-quoted, multi-line strings as literal blocks, long plain and quoted scalars folded
//! at 80 columns, and map keys in go-yaml's "natural" order (`a2` before `a10`). No emitter
//! crate matches that layout, so the emitter is ours too.
//!
//! Reading: `parse` (libyaml events to nodes, with go-yaml's limits and errors), `scalar`
//! (go-yaml v2's resolution of scalars), `decode` (nodes to values, the public readers);
//! `block_subset` reads the common block-style subset faster, to the same nodes, or for
//! [`from_yaml`], [`from_yaml_top_keys`] and [`from_yaml_raw`] straight to the same values.
//! Writing: `encode` (values to what the encoder sees after `json.Marshal`), `emit` (the
//! emitter, the public writers). Tests are in `tests`.

mod block_subset;
mod decode;
mod emit;
mod encode;
mod parse;
mod scalar;
#[cfg(test)]
mod tests;

pub use decode::{
    from_yaml, from_yaml_documents, from_yaml_native, from_yaml_raw, from_yaml_top_keys,
    DecodeError,
};
pub use emit::{to_yaml, to_yaml_arc, to_yaml_pretty};
pub use encode::{natural_less, EncodeError};
pub use parse::Node;

/// Every document of a stream as unresolved nodes (keys in their order, scalars with their
/// style and explicit tag, aliases expanded): for readers that resolve scalars by other
/// rules than go-yaml v2's (the diff's dyff format follows go-yaml v3).
pub fn parse_nodes(text: &str) -> Result<Vec<Node>, String> {
    parse::parse_documents(text)
}

use decode::is_merge_key;
use parse::parse_documents_with_libyaml;

/// The fast reader against libyaml: whenever [`block_subset`] reads a text, libyaml must read
/// it to the same nodes, and [`from_yaml`] (which reads it straight to values) must give what
/// libyaml's nodes decode to, or the same error.
#[doc(hidden)]
pub fn check_block_subset(text: &str) -> Result<bool, String> {
    let same = |reader: &str,
                direct: Result<crate::Value, DecodeError>,
                through_nodes: Result<crate::Value, DecodeError>| {
        let (direct, through_nodes) = (
            direct.map(|v| format!("{v:?}")),
            through_nodes.map(|v| format!("{v:?}")),
        );
        if direct == through_nodes {
            Ok(())
        } else {
            Err(format!(
                "{reader}: {direct:?}\nlibyaml's nodes decoded: {through_nodes:?}"
            ))
        }
    };
    same(
        "from_yaml",
        from_yaml(text),
        decode::from_yaml_through_nodes(text),
    )?;
    same(
        "from_yaml_raw",
        from_yaml_raw(text),
        decode::from_yaml_raw_through_nodes(text),
    )?;
    // The top keys of a manifest's head, and keys that only match once converted.
    for keys in [
        &["apiVersion", "kind", "metadata", "a"][..],
        &["true", "16", "1.5"],
    ] {
        same(
            &format!("from_yaml_top_keys({keys:?})"),
            from_yaml_top_keys(text, keys),
            decode::from_yaml_top_keys_through_nodes(text, keys),
        )?;
    }
    let Some(fast) = block_subset::parse(text) else {
        return Ok(false);
    };
    // Reading only some top-level keys accepts the same text and builds the same nodes for
    // them (it may still give up, on a merge key).
    let keys = ["apiVersion", "kind", "metadata", "a"];
    if let Some(partial) = block_subset::parse_top_keys(text, &keys) {
        let wanted = |docs: &[Node]| -> Vec<(Node, Option<Node>)> {
            match docs.first() {
                Some(Node::Map(entries)) => entries
                    .iter()
                    .map(|(k, v)| {
                        let keep = matches!(k, Node::Scalar { text, .. }
                            if keys.iter().any(|w| w.eq_ignore_ascii_case(text)));
                        (k.clone(), keep.then(|| v.clone()))
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let whole_document = !matches!(fast.first(), Some(Node::Map(_)));
        if (whole_document && partial != fast) || wanted(&partial) != wanted(&fast) {
            return Err(format!("top keys: {partial:?}\nwhole: {fast:?}"));
        }
    } else if !matches!(fast.first(), Some(Node::Map(e)) if e.iter().any(|(k, _)| is_merge_key(k)))
    {
        return Err("reading the top keys gave up where reading everything did not".into());
    }
    match parse_documents_with_libyaml(text) {
        Ok(reference) if reference == fast => Ok(true),
        Ok(reference) => Err(format!("fast reader: {fast:?}\nlibyaml: {reference:?}")),
        Err(e) => Err(format!("fast reader accepted what libyaml rejects: {e}")),
    }
}
