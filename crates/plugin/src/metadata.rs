//! `plugin.yaml` in both of Helm's schemas (Helm's `internal/plugin/metadata*.go`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rudder_value::Value;

/// The file that makes a directory a plugin.
pub const PLUGIN_FILE_NAME: &str = "plugin.yaml";

/// One entry of `platformCommand` (or a hook): the command for an OS/architecture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformCommand {
    pub os: String,
    pub arch: String,
    pub command: String,
    pub args: Vec<String>,
}

/// `config` of a `cli/v1` plugin; a legacy plugin's `usage` is its short help and its
/// `description` its long help, as Helm maps them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliConfig {
    pub usage: String,
    pub short_help: String,
    pub long_help: String,
    pub ignore_flags: bool,
}

/// `config`, by plugin type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Config {
    Cli(CliConfig),
    Getter { protocols: Vec<String> },
    PostRenderer,
}

/// `runtimeConfig` of the `subprocess` runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubprocessConfig {
    pub platform_command: Vec<PlatformCommand>,
    pub platform_hooks: BTreeMap<String, Vec<PlatformCommand>>,
    /// `protocolCommands` (a legacy plugin's `downloaders`): protocols and their command.
    pub protocol_commands: Vec<(Vec<String>, Vec<PlatformCommand>)>,
    /// Helm expands `$VARS` in hook arguments, except for a legacy `hooks` entry, which it
    /// runs as `sh -c HOOK` and leaves to the shell.
    pub expand_hook_args: bool,
}

/// `runtimeConfig`, by runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeConfig {
    Subprocess(SubprocessConfig),
    /// Helm's Wasm runtime: loaded, listed, never run by rudder.
    ExtismV1,
}

/// A plugin's metadata, in the common form both schemas load into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// `v1`, or `legacy` for Helm 3's schema.
    pub api_version: String,
    pub name: String,
    /// `cli/v1`, `getter/v1`, `postrenderer/v1`.
    pub kind: String,
    /// `subprocess` or `extism/v1`.
    pub runtime: String,
    pub version: String,
    pub source_url: String,
    pub config: Config,
    pub runtime_config: RuntimeConfig,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Masterminds/semver's `StrictNewVersion`: `MAJOR.MINOR.PATCH[-pre][+build]`, no `v`.
fn strict_semver(version: &str) -> bool {
    static STRICT: OnceLock<regex::Regex> = OnceLock::new();
    STRICT
        .get_or_init(|| {
            regex::Regex::new(
                r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$",
            )
            .expect("valid regex")
        })
        .is_match(version)
}

/// A scalar as go-yaml fills a `string` field.
fn text(v: Option<Value>) -> String {
    match v {
        None | Some(Value::Nil) => String::new(),
        Some(Value::String(s)) => s.to_string(),
        Some(other) => other.to_go_string(),
    }
}

fn flag(v: Option<Value>) -> bool {
    v.map(|v| v.is_true()).unwrap_or(false)
}

fn strings(v: Option<Value>) -> Vec<String> {
    v.and_then(|v| {
        v.to_list()
            .map(|l| l.iter().map(|s| text(Some(s.clone()))).collect())
    })
    .unwrap_or_default()
}

fn field(v: &Value, key: &str) -> Option<Value> {
    v.as_dict().and_then(|d| d.get(key))
}

fn platform_commands(v: Option<Value>) -> Vec<PlatformCommand> {
    let Some(list) = v.and_then(|v| v.to_list().map(|l| l.into_owned())) else {
        return Vec::new();
    };
    list.iter()
        .map(|c| PlatformCommand {
            os: text(field(c, "os")),
            arch: text(field(c, "arch")),
            command: text(field(c, "command")),
            args: strings(field(c, "args")),
        })
        .collect()
}

fn platform_hooks(v: Option<Value>) -> BTreeMap<String, Vec<PlatformCommand>> {
    v.and_then(|v| v.to_map())
        .map(|m| {
            m.into_iter()
                .map(|(event, cmds)| (event, platform_commands(Some(cmds))))
                .collect()
        })
        .unwrap_or_default()
}

/// Helm's `sanitizeString`: spaces become ' ', unprintable characters go.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

impl Metadata {
    /// Reads `plugin.yaml`'s text: the schema is chosen by `apiVersion` (none: legacy).
    pub fn parse(text_yaml: &str) -> Result<Metadata, String> {
        let doc = rudder_value::yaml::from_yaml_native(text_yaml)
            .map_err(|e| format!("failed to peek {PLUGIN_FILE_NAME} API version: {e}"))?;
        if !doc.is_nil() && doc.as_dict().is_none() {
            return Err(format!(
                "failed to peek {PLUGIN_FILE_NAME} API version: not a mapping"
            ));
        }
        match text(field(&doc, "apiVersion")).as_str() {
            "" => Self::legacy(&doc),
            "v1" => Self::v1(&doc),
            other => Err(format!("invalid plugin apiVersion: {other:?}")),
        }
    }

    fn legacy(doc: &Value) -> Result<Metadata, String> {
        let name = text(field(doc, "name"));
        let version = text(field(doc, "version"));
        if !valid_name(&name) {
            return Err(format!(
                "invalid plugin name {name:?}: must contain only a-z, A-Z, 0-9, _ and -"
            ));
        }
        if !version.is_empty() && !strict_semver(&version) {
            return Err(format!(
                "invalid plugin version {version:?}: must be valid semver"
            ));
        }
        let command = text(field(doc, "command"));
        let mut platform_command = platform_commands(field(doc, "platformCommand"));
        if !platform_command.is_empty() && !command.is_empty() {
            return Err("both platformCommand and command are set".into());
        }
        let mut hooks = platform_hooks(field(doc, "platformHooks"));
        let legacy_hooks = field(doc, "hooks")
            .and_then(|h| h.to_map())
            .unwrap_or_default();
        if !hooks.is_empty() && !legacy_hooks.is_empty() {
            return Err("both platformHooks and hooks are set".into());
        }
        let mut protocol_commands = Vec::new();
        let downloaders = field(doc, "downloaders")
            .and_then(|d| d.to_list().map(|l| l.into_owned()))
            .unwrap_or_default();
        for (i, d) in downloaders.iter().enumerate() {
            let command = text(field(d, "command"));
            let protocols = strings(field(d, "protocols"));
            if command.is_empty() {
                return Err(format!("downloader {i} has empty command"));
            }
            if protocols.is_empty() {
                return Err(format!("downloader {i} has no protocols"));
            }
            if let Some(j) = protocols.iter().position(|p| p.is_empty()) {
                return Err(format!("downloader {i} has empty protocol at index {j}"));
            }
            protocol_commands.push((
                protocols,
                vec![PlatformCommand {
                    command,
                    ..PlatformCommand::default()
                }],
            ));
        }
        if platform_command.is_empty() && !command.is_empty() {
            platform_command = vec![PlatformCommand {
                command,
                ..PlatformCommand::default()
            }];
        }
        let mut expand_hook_args = true;
        if hooks.is_empty() && !legacy_hooks.is_empty() {
            for (event, hook) in legacy_hooks {
                let hook = vec![PlatformCommand {
                    command: "sh".into(),
                    args: vec!["-c".into(), text(Some(hook))],
                    ..PlatformCommand::default()
                }];
                hooks.insert(event, hook);
            }
            expand_hook_args = false;
        }
        let (kind, config) = if protocol_commands.is_empty() {
            let config = CliConfig {
                usage: String::new(),
                short_help: sanitize(&text(field(doc, "usage"))),
                long_help: text(field(doc, "description")),
                ignore_flags: flag(field(doc, "ignoreFlags")),
            };
            ("cli/v1", Config::Cli(config))
        } else {
            let protocols = protocol_commands
                .iter()
                .flat_map(|(p, _)| p.iter().cloned())
                .collect();
            ("getter/v1", Config::Getter { protocols })
        };
        Ok(Metadata {
            api_version: "legacy".into(),
            name,
            kind: kind.into(),
            runtime: "subprocess".into(),
            version,
            source_url: String::new(),
            config,
            runtime_config: RuntimeConfig::Subprocess(SubprocessConfig {
                platform_command,
                platform_hooks: hooks,
                protocol_commands,
                expand_hook_args,
            }),
        })
    }

    fn v1(doc: &Value) -> Result<Metadata, String> {
        // Helm decodes the v1 schema with KnownFields(true).
        const KNOWN: &[&str] = &[
            "apiVersion",
            "name",
            "type",
            "runtime",
            "version",
            "sourceURL",
            "config",
            "runtimeConfig",
        ];
        if let Some(d) = doc.as_dict() {
            if let Some(unknown) = d.keys().into_iter().find(|k| !KNOWN.contains(&k.as_str())) {
                return Err(format!(
                    "yaml: unmarshal errors:\n  field {unknown} not found in type plugin.MetadataV1"
                ));
            }
        }
        let name = text(field(doc, "name"));
        let version = text(field(doc, "version"));
        let kind = text(field(doc, "type"));
        let runtime = text(field(doc, "runtime"));
        if !valid_name(&name) {
            return Err("invalid plugin `name`".into());
        }
        if version.is_empty() {
            return Err("plugin `version` is required".into());
        }
        if !strict_semver(&version) {
            return Err(format!(
                "invalid plugin `version` {version:?}: must be valid semver"
            ));
        }
        if kind.is_empty() {
            return Err("`type` missing".into());
        }
        if runtime.is_empty() {
            return Err("`runtime` missing".into());
        }
        let config_doc = field(doc, "config").unwrap_or(Value::Nil);
        let config = match kind.as_str() {
            "cli/v1" => Config::Cli(CliConfig {
                usage: text(field(&config_doc, "usage")),
                short_help: text(field(&config_doc, "shortHelp")),
                long_help: text(field(&config_doc, "longHelp")),
                ignore_flags: flag(field(&config_doc, "ignoreFlags")),
            }),
            "getter/v1" => Config::Getter {
                protocols: strings(field(&config_doc, "protocols")),
            },
            "postrenderer/v1" => Config::PostRenderer,
            other => {
                return Err(format!(
                    "failed to convert MetadataV1 to Metadata: unsupported plugin type: {other:?}"
                ))
            }
        };
        let runtime_doc = field(doc, "runtimeConfig").unwrap_or(Value::Nil);
        let runtime_config = match runtime.as_str() {
            "subprocess" => {
                let protocol_commands = field(&runtime_doc, "protocolCommands")
                    .and_then(|l| l.to_list().map(|l| l.into_owned()))
                    .unwrap_or_default()
                    .iter()
                    .map(|p| {
                        (
                            strings(field(p, "protocols")),
                            platform_commands(field(p, "platformCommand")),
                        )
                    })
                    .collect();
                RuntimeConfig::Subprocess(SubprocessConfig {
                    platform_command: platform_commands(field(&runtime_doc, "platformCommand")),
                    platform_hooks: platform_hooks(field(&runtime_doc, "platformHooks")),
                    protocol_commands,
                    expand_hook_args: true,
                })
            }
            "extism/v1" => RuntimeConfig::ExtismV1,
            other => {
                return Err(format!(
                    "failed to convert MetadataV1 to Metadata: unsupported plugin runtime type: {other:?}"
                ))
            }
        };
        Ok(Metadata {
            api_version: "v1".into(),
            name,
            kind,
            runtime,
            version,
            source_url: text(field(doc, "sourceURL")),
            config,
            runtime_config,
        })
    }
}

/// `yaml.Marshal` (sigs.k8s.io/yaml) of Helm's in-memory `plugin.Metadata`, the text a
/// plugin's provenance file signs: Go's field names (the struct has no JSON tags), keys
/// sorted, an empty list as `null` (Helm's loaders leave unset lists nil; a list written
/// empty in plugin.yaml, which Go would keep as `[]`, is not told apart here).
pub fn signing_yaml(m: &Metadata) -> String {
    use rudder_value::{Map, Value};
    fn obj(entries: Vec<(&str, Value)>) -> Value {
        let mut map = Map::new();
        for (k, v) in entries {
            map.insert(k.to_string(), v);
        }
        Value::map(map)
    }
    fn list_or_null(items: Vec<Value>) -> Value {
        if items.is_empty() {
            Value::Nil
        } else {
            Value::list(items)
        }
    }
    fn strings(items: &[String]) -> Value {
        list_or_null(items.iter().map(Value::str).collect())
    }
    fn commands(cmds: &[PlatformCommand]) -> Value {
        list_or_null(
            cmds.iter()
                .map(|c| {
                    obj(vec![
                        ("OperatingSystem", Value::str(&c.os)),
                        ("Architecture", Value::str(&c.arch)),
                        ("Command", Value::str(&c.command)),
                        ("Args", strings(&c.args)),
                    ])
                })
                .collect(),
        )
    }
    let config = match &m.config {
        Config::Cli(c) => obj(vec![
            ("Usage", Value::str(&c.usage)),
            ("ShortHelp", Value::str(&c.short_help)),
            ("LongHelp", Value::str(&c.long_help)),
            ("IgnoreFlags", Value::Bool(c.ignore_flags)),
        ]),
        Config::Getter { protocols } => obj(vec![("Protocols", strings(protocols))]),
        Config::PostRenderer => obj(vec![]),
    };
    let runtime_config = match &m.runtime_config {
        RuntimeConfig::Subprocess(s) => {
            let hooks = if s.platform_hooks.is_empty() {
                Value::Nil
            } else {
                let mut map = Map::new();
                for (event, cmds) in &s.platform_hooks {
                    map.insert(event.clone(), commands(cmds));
                }
                Value::map(map)
            };
            let protocols = list_or_null(
                s.protocol_commands
                    .iter()
                    .map(|(p, c)| {
                        obj(vec![
                            ("Protocols", strings(p)),
                            ("PlatformCommand", commands(c)),
                        ])
                    })
                    .collect(),
            );
            obj(vec![
                ("PlatformCommand", commands(&s.platform_command)),
                ("PlatformHooks", hooks),
                ("ProtocolCommands", protocols),
            ])
        }
        RuntimeConfig::ExtismV1 => obj(vec![]),
    };
    let doc = obj(vec![
        ("APIVersion", Value::str(&m.api_version)),
        ("Name", Value::str(&m.name)),
        ("Type", Value::str(&m.kind)),
        ("Runtime", Value::str(&m.runtime)),
        ("Version", Value::str(&m.version)),
        ("SourceURL", Value::str(&m.source_url)),
        ("Config", config),
        ("RuntimeConfig", runtime_config),
    ]);
    rudder_value::yaml::to_yaml(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_schema_is_a_subprocess_cli_plugin() {
        let m = Metadata::parse(
            "name: hello\nversion: 0.1.0\nusage: say\n  hello\ndescription: long\ncommand: $HELM_PLUGIN_DIR/hello.sh\nignoreFlags: true\nhooks:\n  install: echo hi\n",
        )
        .unwrap();
        assert_eq!(m.api_version, "legacy");
        assert_eq!(m.kind, "cli/v1");
        assert_eq!(
            m.config,
            Config::Cli(CliConfig {
                usage: String::new(),
                short_help: "say hello".into(),
                long_help: "long".into(),
                ignore_flags: true,
            })
        );
        let RuntimeConfig::Subprocess(rc) = m.runtime_config else {
            panic!("subprocess expected")
        };
        assert_eq!(rc.platform_command[0].command, "$HELM_PLUGIN_DIR/hello.sh");
        assert_eq!(rc.platform_hooks["install"][0].args, ["-c", "echo hi"]);
        assert!(!rc.expand_hook_args);
    }

    #[test]
    fn legacy_downloaders_make_a_getter() {
        let m =
            Metadata::parse("name: g\ndownloaders:\n- command: bin/get\n  protocols: [s3, gs]\n")
                .unwrap();
        assert_eq!(m.kind, "getter/v1");
        assert_eq!(
            m.config,
            Config::Getter {
                protocols: vec!["s3".into(), "gs".into()]
            }
        );
    }

    #[test]
    fn v1_schema() {
        let m = Metadata::parse(
            "apiVersion: v1\nname: pr\ntype: postrenderer/v1\nruntime: subprocess\nversion: 1.2.3\nruntimeConfig:\n  platformCommand:\n  - command: ${HELM_PLUGIN_DIR}/run.sh\n    args: [a]\n",
        )
        .unwrap();
        assert_eq!(m.kind, "postrenderer/v1");
        assert_eq!(m.config, Config::PostRenderer);
        let RuntimeConfig::Subprocess(rc) = m.runtime_config else {
            panic!("subprocess expected")
        };
        assert_eq!(rc.platform_command[0].args, ["a"]);
    }

    #[test]
    fn helm_validation_errors() {
        let cases = [
            ("name: a b\n", "invalid plugin name \"a b\": must contain only a-z, A-Z, 0-9, _ and -"),
            ("name: a\nversion: v1\n", "invalid plugin version \"v1\": must be valid semver"),
            ("name: a\ncommand: x\nplatformCommand: [{command: y}]\n", "both platformCommand and command are set"),
            ("name: a\ndownloaders: [{command: x}]\n", "downloader 0 has no protocols"),
            ("apiVersion: v2\nname: a\n", "invalid plugin apiVersion: \"v2\""),
            ("apiVersion: v1\nname: a\ntype: cli/v1\nruntime: subprocess\n", "plugin `version` is required"),
            ("apiVersion: v1\nname: a\nversion: 1.0.0\nruntime: subprocess\n", "`type` missing"),
            ("apiVersion: v1\nname: a\nversion: 1.0.0\ntype: cli/v1\n", "`runtime` missing"),
            ("apiVersion: v1\nname: a\nversion: 1.0.0\ntype: cli/v1\nruntime: subprocess\ncommand: x\n", "yaml: unmarshal errors:\n  field command not found in type plugin.MetadataV1"),
        ];
        for (yaml, want) in cases {
            assert_eq!(Metadata::parse(yaml).unwrap_err(), want, "{yaml}");
        }
    }

    #[test]
    fn extism_runtime_loads() {
        let m = Metadata::parse(
            "apiVersion: v1\nname: w\ntype: cli/v1\nruntime: extism/v1\nversion: 0.1.0\n",
        )
        .unwrap();
        assert_eq!(m.runtime_config, RuntimeConfig::ExtismV1);
    }

    #[test]
    fn signing_yaml_uses_go_field_names_sorted() {
        let m =
            Metadata::parse("name: hello\nversion: 0.2.0\nusage: say\ncommand: run.sh\n").unwrap();
        assert_eq!(
            signing_yaml(&m),
            "APIVersion: legacy\nConfig:\n  IgnoreFlags: false\n  LongHelp: \"\"\n  ShortHelp: say\n  Usage: \"\"\nName: hello\nRuntime: subprocess\nRuntimeConfig:\n  PlatformCommand:\n  - Architecture: \"\"\n    Args: null\n    Command: run.sh\n    OperatingSystem: \"\"\n  PlatformHooks: null\n  ProtocolCommands: null\nSourceURL: \"\"\nType: cli/v1\nVersion: 0.2.0\n"
        );
    }
}
