//! `rudder plugin ...` and plugins as subcommands (Helm's pkg/cmd/plugin*.go and
//! load_plugins.go).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use rudder_action as action;
use rudder_action::plugin::{self as plugins, Descriptor};

use crate::settings::Settings;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// install a Helm plugin (from a directory, a .tgz file or URL, or an OCI reference)
    #[command(alias = "add")]
    Install(InstallArgs),
    /// list installed Helm plugins
    #[command(alias = "ls")]
    List {
        /// Plugin type
        #[arg(long = "type", default_value = "")]
        kind: String,
    },
    /// uninstall one or more Helm plugins
    #[command(alias = "rm", alias = "remove")]
    Uninstall {
        /// <plugin>...
        names: Vec<String>,
    },
    /// update one or more Helm plugins
    #[command(alias = "up")]
    Update {
        /// <plugin>...
        names: Vec<String>,
    },
    /// package a plugin directory into a plugin archive
    Package(PackageArgs),
    /// verify that a plugin at the given path has been signed and is valid
    Verify {
        /// PATH of the plugin archive (its provenance file is PATH.prov)
        path: std::path::PathBuf,
        /// keyring containing public keys
        #[arg(long, default_value_os_t = action::provenance::default_keyring())]
        keyring: std::path::PathBuf,
    },
}

#[derive(Args)]
pub struct PackageArgs {
    /// PATH of the plugin directory
    path: std::path::PathBuf,
    /// use a PGP private key to sign this plugin (on by default; --sign=false to skip)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    sign: bool,
    /// name of the key to use when signing. Used if --sign is true
    #[arg(long, default_value = "")]
    key: String,
    /// location of a public keyring
    #[arg(long, default_value_os_t = action::provenance::default_keyring())]
    keyring: std::path::PathBuf,
    /// location of a file which contains the passphrase for the signing key. Use "-" to read from stdin.
    #[arg(long)]
    passphrase_file: Option<String>,
    /// location to write the plugin tarball.
    #[arg(long, short = 'd', default_value = ".")]
    destination: std::path::PathBuf,
}

impl PackageArgs {
    /// Helm's signer set-up (plugin_package.go): the keyring must load, then the key named
    /// by --key (none named: no key, as Helm's NewFromKeyring leaves it) is unlocked.
    fn signer(&self) -> Result<action::provenance::Signer, action::Error> {
        action::provenance::load_keyring(&self.keyring)
            .map_err(|e| action::Error::context(format!("error reading from keyring: {e}"), e))?;
        if self.key.is_empty() {
            return Err(action::Error::message("private key not found"));
        }
        action::provenance::Signer::from_keyring(&self.keyring, &self.key, |name| {
            match &self.passphrase_file {
                Some(file) => super::package::read_passphrase_file(file),
                None => super::package::prompt(name),
            }
        })
        .map_err(action::Error::from)
    }
}

#[derive(Args)]
pub struct InstallArgs {
    /// <path|url>
    source: String,
    /// the version (tag) to install from an OCI reference that names none
    #[arg(long, default_value = "")]
    version: String,
    /// verify the plugin signature before installing (archives need NAME-VERSION.tgz.prov beside them; directories are not verified)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    verify: bool,
    /// location of public keys used for verification
    #[arg(long, default_value_os_t = action::provenance::default_keyring())]
    keyring: std::path::PathBuf,
    /// identify registry client using this SSL certificate file
    #[arg(long, default_value = "")]
    cert_file: String,
    /// identify registry client using this SSL key file
    #[arg(long, default_value = "")]
    key_file: String,
    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, default_value = "")]
    ca_file: String,
    /// skip tls certificate checks for the plugin download
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// use insecure HTTP connections for the plugin download
    #[arg(long)]
    plain_http: bool,
    /// registry username
    #[arg(long, default_value = "")]
    username: String,
    /// registry password
    #[arg(long, default_value = "")]
    password: String,
}

impl InstallArgs {
    fn options(&self) -> action::PluginInstallOptions {
        action::PluginInstallOptions {
            version: self.version.clone(),
            verify: self.verify,
            keyring: self.keyring.clone(),
            registry: action::RegistryOptions {
                plain_http: self.plain_http,
                ca_file: self.ca_file.clone(),
                cert_file: self.cert_file.clone(),
                key_file: self.key_file.clone(),
                insecure_skip_tls_verify: self.insecure_skip_tls_verify,
                username: self.username.clone(),
                password: self.password.clone(),
            },
        }
    }
}

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("level=WARN msg={w}");
    }
}

fn plugin_error(e: plugins::Error) -> action::Error {
    action::Error::message(e.to_string())
}

pub fn run(
    cmd: PluginCommand,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), action::Error> {
    let paths = settings.paths.clone();
    let mut write = |s: &str| out.write_all(s.as_bytes()).map_err(action::Error::io);
    match cmd {
        PluginCommand::List { kind } => {
            let dirs = plugins::split_plugin_dirs(&paths.plugins);
            let descriptor = Descriptor {
                name: String::new(),
                kind,
            };
            let found = plugins::find_plugins(&dirs, &descriptor).map_err(plugin_error)?;
            warn(&found.warnings);
            write(&action::plugin_list_table(&found.plugins, &paths.data_home))?;
        }
        PluginCommand::Install(a) => {
            let mut text = Vec::new();
            let result = action::plugin_install(&paths, &a.source, &a.options(), &mut text);
            write(&String::from_utf8_lossy(&text))?;
            let plugin = result?;
            plugin
                .run_hook("install", &settings.plugin_env())
                .map_err(plugin_error)?;
            write(&format!("Installed plugin: {}\n", plugin.metadata.name))?;
        }
        PluginCommand::Package(a) => {
            let signer = if a.sign {
                Some(a.signer()?)
            } else {
                write("WARNING: Skipping plugin signing. This is not recommended for plugins intended for distribution.\n")?;
                None
            };
            let packaged = action::plugin_package(&a.path, &a.destination, signer.as_ref())?;
            if let Some(prov) = &packaged.prov {
                write(&format!(
                    "Successfully signed. Signature written to: {}\n",
                    prov.display()
                ))?;
            }
            write(&format!(
                "Successfully packaged plugin and saved it to: {}\n",
                packaged.archive.display()
            ))?;
        }
        PluginCommand::Verify { path, keyring } => {
            let verification = action::plugin_verify(&path, &keyring)?;
            write(&action::plugin_verification_report(&verification))?;
        }
        PluginCommand::Uninstall { names } | PluginCommand::Update { names }
            if names.is_empty() =>
        {
            return Err(action::Error::message(
                "please provide plugin name to uninstall",
            ))
        }
        PluginCommand::Uninstall { names } => {
            let settings = settings.plugin_env();
            for_each_named(
                &paths.plugins,
                &names,
                "uninstall",
                "Uninstalled",
                &mut write,
                |p| {
                    plugins::uninstall(p, &paths.plugins)
                        .and_then(|()| p.run_hook("delete", &settings))
                },
            )?;
        }
        PluginCommand::Update { names } => {
            for_each_named(
                &paths.plugins,
                &names,
                "update",
                "Updated",
                &mut write,
                plugins::update,
            )?;
        }
    }
    Ok(())
}

/// Runs `act` on each installed plugin named, as Helm's uninstall and update do: every name
/// is tried, "DONE plugin: NAME" for each success, and the failures (unknown names included)
/// reported together at the end.
fn for_each_named(
    plugins_dir: &std::path::Path,
    names: &[String],
    verb: &str,
    done: &str,
    write: &mut dyn FnMut(&str) -> Result<(), action::Error>,
    mut act: impl FnMut(&plugins::Plugin) -> Result<(), plugins::Error>,
) -> Result<(), action::Error> {
    let found = plugins::load_all(plugins_dir).map_err(plugin_error)?;
    warn(&found.warnings);
    let mut errors = Vec::new();
    for name in names {
        let Some(p) = found.plugins.iter().find(|p| &p.metadata.name == name) else {
            errors.push(format!("plugin: {name} not found"));
            continue;
        };
        match act(p) {
            Ok(()) => write(&format!("{done} plugin: {name}\n"))?,
            Err(e) => errors.push(format!("failed to {verb} plugin {name}, got error ({e})")),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(action::Error::message(errors.join("\n")))
    }
}

/// Helm's `manuallyProcessArgs`: the global flags Helm reads itself out of a plugin's
/// arguments (known), the rest for the plugin (unknown).
fn split_known_flags(args: &[String]) -> (Vec<String>, Vec<String>) {
    const WITH_VALUE: &[&str] = &[
        "--kube-context",
        "--namespace",
        "-n",
        "--kubeconfig",
        "--kube-apiserver",
        "--kube-token",
        "--kube-as-user",
        "--kube-as-group",
        "--kube-ca-file",
        "--registry-config",
        "--repository-cache",
        "--repository-config",
        "--kube-insecure-skip-tls-verify",
        "--kube-tls-server-name",
    ];
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--debug" {
            known.push(a.clone());
        } else if WITH_VALUE.contains(&a.as_str()) {
            known.push(a.clone());
            i += 1;
            if let Some(v) = args.get(i) {
                known.push(v.clone());
            }
        } else if WITH_VALUE.iter().any(|f| a.starts_with(&format!("{f}="))) {
            known.push(a.clone());
        } else {
            unknown.push(a.clone());
        }
        i += 1;
    }
    (known, unknown)
}

/// `rudder NAME ARGS...` for a `cli/v1` plugin NAME: runs it with Helm's environment and
/// passes on its exit code. `before` are rudder's arguments before NAME (global flags), and
/// `before_settings` what they set (where plugins are).
pub fn run_external(
    external: &[String],
    before: &[String],
    before_settings: &Settings,
    parse: impl Fn(Vec<String>) -> Result<Settings, String>,
) -> ExitCode {
    let fail = |message: String, code: u8| {
        let _ = writeln!(std::io::stderr(), "Error: {message}");
        ExitCode::from(code)
    };
    let Some((name, args)) = external.split_first() else {
        return fail("unknown command".into(), 1);
    };
    let unknown_command = || format!("unknown command {name:?} for \"rudder\"");
    if std::env::var("HELM_NO_PLUGINS").as_deref() == Ok("1") {
        return fail(unknown_command(), 1);
    }
    let paths = &before_settings.paths;
    let descriptor = Descriptor {
        name: name.clone(),
        kind: "cli/v1".into(),
    };
    let found =
        match plugins::find_plugins(&plugins::split_plugin_dirs(&paths.plugins), &descriptor) {
            Ok(found) => found,
            Err(e) => return fail(e.to_string(), 1),
        };
    let Some(plugin) = found.plugins.into_iter().next() else {
        return fail(unknown_command(), 1);
    };
    let (known, unknown) = split_known_flags(args);
    // The global flags given after NAME count as if given before it.
    let mut argv = before.to_vec();
    argv.extend(known);
    let settings = match parse(argv) {
        Ok(parsed) => parsed,
        Err(e) => return fail(e, 1),
    };
    let ignore_flags = matches!(&plugin.metadata.config, plugins::Config::Cli(c) if c.ignore_flags);
    let extra: Vec<String> = if ignore_flags { Vec::new() } else { unknown };
    match plugin.run_cli(&extra, &settings.plugin_env()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code().unwrap_or(1);
            // Go's os.Exit keeps the low byte (a signalled plugin's -1 gives 255).
            fail(e.to_string(), code as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_flags_are_helms() {
        let args: Vec<String> = ["a", "-n", "ns", "--kube-context=c", "--debug", "--x", "y"]
            .map(String::from)
            .to_vec();
        let (known, unknown) = split_known_flags(&args);
        assert_eq!(known, ["-n", "ns", "--kube-context=c", "--debug"]);
        assert_eq!(unknown, ["a", "--x", "y"]);
    }
}
