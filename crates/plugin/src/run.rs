//! Running a `subprocess` plugin (Helm's `runtime_subprocess.go`, `subprocess_commands.go`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::metadata::{Metadata, PlatformCommand, RuntimeConfig, SubprocessConfig};
use crate::Error;

/// A loaded plugin: its metadata and the directory it was found in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    pub metadata: Metadata,
    pub dir: PathBuf,
}

/// Go's `os.Expand`: `$NAME`, `${NAME}` and the shell's one-character specials replaced by
/// `lookup`; a `$` before anything else, or last, is kept; a bad `${` is dropped.
pub fn expand(s: &str, lookup: impl Fn(&str) -> String) -> String {
    let special = |b: u8| b"*#$@!?-".contains(&b) || b.is_ascii_digit();
    let alnum = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut start = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&s[start..j]);
            let rest = &s[j + 1..];
            let rb = rest.as_bytes();
            let (name, width) = if rb[0] == b'{' {
                if rb.len() > 2 && special(rb[1]) && rb[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest[1..].find('}') {
                        Some(0) => ("", 2),
                        Some(i) => (&rest[1..i + 1], i + 2),
                        None => ("", 1),
                    }
                }
            } else if special(rb[0]) {
                (&rest[..1], 1)
            } else {
                let n = rb.iter().take_while(|b| alnum(**b)).count();
                (&rest[..n], n)
            };
            if name.is_empty() && width == 0 {
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name));
            }
            j += width;
            start = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[start.min(s.len())..]);
    out
}

/// Go's GOOS and GOARCH names for this machine.
fn go_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    (std::env::consts::OS, arch)
}

/// Helm's `getPlatformCommand`: an exact OS+arch match wins; else the first entry for this
/// OS without an arch; else the first entry with neither. The command splits on spaces.
fn platform_command(cmds: &[PlatformCommand]) -> Option<(Vec<String>, Vec<String>)> {
    let (os, arch) = go_platform();
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let split = |c: &PlatformCommand| {
        (
            c.command.split(' ').map(str::to_string).collect::<Vec<_>>(),
            c.args.clone(),
        )
    };
    let mut chosen = None;
    let mut found_os = false;
    for c in cmds {
        if eq(&c.os, os) && eq(&c.arch, arch) {
            return Some(split(c));
        }
        if (!c.os.is_empty() && !eq(&c.os, os)) || !c.arch.is_empty() {
            continue;
        }
        if !found_os && !c.os.is_empty() && eq(&c.os, os) {
            chosen = Some(split(c));
            found_os = true;
        } else if chosen.is_none() {
            chosen = Some(split(c));
        }
    }
    chosen
}

/// Helm's `PrepareCommands`: the program (always expanded) and its arguments (expanded
/// when `expand_args`), then `extra_args` as given.
pub fn prepare_command(
    cmds: &[PlatformCommand],
    expand_args: bool,
    extra_args: &[String],
    env: &BTreeMap<String, String>,
) -> Result<(String, Vec<String>), Error> {
    let (parts, args) = platform_command(cmds).ok_or(Error::NoCommand)?;
    if parts.first().is_none_or(|p| p.is_empty()) {
        return Err(Error::NoCommand);
    }
    let lookup = |k: &str| env.get(k).cloned().unwrap_or_default();
    let program = expand(&parts[0], lookup);
    let arg = |a: &String| {
        if expand_args {
            expand(a, lookup)
        } else {
            a.clone()
        }
    };
    let mut argv: Vec<String> = parts[1..].iter().chain(args.iter()).map(arg).collect();
    argv.extend(extra_args.iter().cloned());
    Ok((program, argv))
}

impl Plugin {
    fn subprocess(&self) -> Result<&SubprocessConfig, Error> {
        match &self.metadata.runtime_config {
            RuntimeConfig::Subprocess(config) => Ok(config),
            RuntimeConfig::ExtismV1 => Err(Error::WasmUnsupported {
                name: self.metadata.name.clone(),
            }),
        }
    }

    /// The process environment: ours, then `settings` (Helm's `EnvVars()`), then the
    /// plugin's name and directory.
    fn environment(&self, settings: &[(String, String)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = std::env::vars().collect();
        env.extend(settings.iter().cloned());
        env.insert("HELM_PLUGIN_NAME".into(), self.metadata.name.clone());
        env.insert("HELM_PLUGIN_DIR".into(), self.dir.display().to_string());
        env
    }

    fn command(
        &self,
        expand_args: bool,
        cmds: &[PlatformCommand],
        extra_args: &[String],
        env: &BTreeMap<String, String>,
    ) -> Result<(Command, String), Error> {
        let (program, argv) = prepare_command(cmds, expand_args, extra_args, env)?;
        let mut command = Command::new(&program);
        command.args(&argv).env_clear().envs(env);
        Ok((command, program))
    }

    fn spawn_error(&self, program: String) -> impl FnOnce(std::io::Error) -> Error {
        let name = self.metadata.name.clone();
        move |source| Error::Spawn {
            name,
            command: program,
            source,
        }
    }

    fn exited(&self, status: std::process::ExitStatus) -> Result<(), Error> {
        if status.success() {
            return Ok(());
        }
        // A process ended by a signal has no code; Go reports -1.
        Err(Error::Exited {
            name: self.metadata.name.clone(),
            exit_code: status.code().unwrap_or(-1),
        })
    }

    /// Runs a `cli/v1` plugin with the terminal's standard streams; `settings` are Helm's
    /// `HELM_*` settings. A failure carries the process's exit code.
    pub fn run_cli(&self, args: &[String], settings: &[(String, String)]) -> Result<(), Error> {
        let config = self.subprocess()?;
        let env = self.environment(settings);
        let (mut command, program) = self.command(true, &config.platform_command, args, &env)?;
        let status = command.status().map_err(self.spawn_error(program))?;
        self.exited(status)
    }

    /// Runs a `postrenderer/v1` plugin: `manifests` on its standard input, its standard
    /// output returned. Its standard error is not shown, as in Helm.
    pub fn post_render(
        &self,
        manifests: &str,
        args: &[String],
        settings: &[(String, String)],
    ) -> Result<String, Error> {
        let config = self.subprocess()?;
        if self.metadata.kind != "postrenderer/v1" {
            return Err(Error::UnsupportedType {
                kind: self.metadata.kind.clone(),
            });
        }
        let env = self.environment(settings);
        let (mut command, program) = self.command(true, &config.platform_command, args, &env)?;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(self.spawn_error(program))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = manifests.to_string();
        // Written from another thread so that a plugin writing before it reads all of its
        // input cannot deadlock with us; a plugin that stops reading early is no error.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let output = child.wait_with_output().map_err(|source| Error::Spawn {
            name: self.metadata.name.clone(),
            command: "wait".into(),
            source,
        })?;
        let _ = writer.join();
        self.exited(output.status)?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs the plugin's hook for `event` (`install`, `update`, `delete`), if it has one,
    /// with its output on the terminal.
    pub fn run_hook(&self, event: &str, settings: &[(String, String)]) -> Result<(), Error> {
        let Ok(config) = self.subprocess() else {
            return Ok(());
        };
        let Some(cmds) = config.platform_hooks.get(event).filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        let env = self.environment(settings);
        let (mut command, program) = self.command(config.expand_hook_args, cmds, &[], &env)?;
        let status = command.status().map_err(self.spawn_error(program))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Hook {
                name: self.metadata.name.clone(),
                event: event.into(),
            })
        }
    }
}

/// The download options a getter plugin receives (Helm's `schema.GetterOptionsV1`, the
/// part a subprocess getter sees).
#[derive(Clone, Debug, Default)]
pub struct GetterOptions {
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub username: String,
    pub password: String,
    pub pass_credentials_all: bool,
}

/// Go's `filepath.Join(dir, command)`: the command is always taken inside the plugin's
/// directory, even when it is absolute (Helm's subprocess getter does this; a
/// `downloaders` command is a path relative to the plugin).
fn join_in(dir: &std::path::Path, command: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    for part in command.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            p => path.push(p),
        }
    }
    path
}

impl Plugin {
    /// Whether this is a getter plugin serving `scheme`.
    pub fn serves(&self, scheme: &str) -> bool {
        matches!(&self.metadata.config, crate::Config::Getter { protocols } if protocols.iter().any(|p| p == scheme))
    }

    /// Downloads `url` with a `getter/v1` plugin as Helm's subprocess getter does
    /// (`runtime_subprocess_getter.go`): the command of the protocol (the URL's scheme),
    /// its program expanded and taken inside the plugin directory, its arguments not
    /// expanded, then the certificate, key and CA files and the URL; credentials in
    /// `HELM_PLUGIN_USERNAME`/`PASSWORD`/`PASS_CREDENTIALS_ALL`. The content is what the
    /// command writes to its standard output; its standard error is passed through.
    pub fn get(
        &self,
        url: &str,
        options: &GetterOptions,
        settings: &[(String, String)],
    ) -> Result<Vec<u8>, Error> {
        let config = self.subprocess()?;
        let protocol = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        let (_, cmds) = config
            .protocol_commands
            .iter()
            .find(|(protocols, _)| protocols.iter().any(|p| p == protocol))
            .ok_or_else(|| Error::NoDownloader {
                protocol: protocol.to_string(),
            })?;
        let mut env = self.environment(settings);
        env.insert("HELM_PLUGIN_USERNAME".into(), options.username.clone());
        env.insert("HELM_PLUGIN_PASSWORD".into(), options.password.clone());
        env.insert(
            "HELM_PLUGIN_PASS_CREDENTIALS_ALL".into(),
            options.pass_credentials_all.to_string(),
        );
        let extra = [
            options.cert_file.clone(),
            options.key_file.clone(),
            options.ca_file.clone(),
            url.to_string(),
        ];
        let (program, argv) = prepare_command(cmds, false, &extra, &env)?;
        let program = join_in(&self.dir, &program);
        let output = Command::new(&program)
            .args(&argv)
            .env_clear()
            .envs(&env)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(self.spawn_error(program.display().to_string()))?;
        self.exited(output.status)?;
        Ok(output.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_expand(s: &str) -> String {
        expand(s, |k| format!("<{k}>"))
    }

    #[test]
    fn expand_follows_go() {
        assert_eq!(go_expand("$A/b"), "<A>/b");
        assert_eq!(go_expand("${A_1}x"), "<A_1>x");
        assert_eq!(go_expand("a$"), "a$");
        assert_eq!(go_expand("$1x"), "<1>x");
        assert_eq!(go_expand("${}x"), "x");
        assert_eq!(go_expand("${ab"), "ab");
        assert_eq!(go_expand("$/x"), "$/x");
        assert_eq!(go_expand("${@}"), "<@>");
        assert_eq!(go_expand("plain"), "plain");
    }

    #[test]
    fn getter_commands_are_inside_the_plugin_dir() {
        let dir = std::path::Path::new("/p/g");
        assert_eq!(join_in(dir, "bin/get"), PathBuf::from("/p/g/bin/get"));
        assert_eq!(
            join_in(dir, "/p/g/get.sh"),
            PathBuf::from("/p/g/p/g/get.sh")
        );
        assert_eq!(join_in(dir, "./x/../get"), PathBuf::from("/p/g/get"));
    }

    #[test]
    fn platform_choice() {
        let (os, arch) = go_platform();
        let pc = |o: &str, a: &str, c: &str| PlatformCommand {
            os: o.into(),
            arch: a.into(),
            command: c.into(),
            args: vec![],
        };
        let cmds = [
            pc("", "", "any"),
            pc(os, "", "os"),
            pc("plan9", "", "other"),
        ];
        assert_eq!(platform_command(&cmds).unwrap().0, ["os"]);
        let cmds = [pc(os, "", "os"), pc(os, arch, "exact a b")];
        assert_eq!(platform_command(&cmds).unwrap().0, ["exact", "a", "b"]);
        assert!(platform_command(&[pc("plan9", "", "x")]).is_none());
    }
}
