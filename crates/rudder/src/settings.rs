//! Helm's `EnvSettings`: the global flags (the namespace, `--debug`, the Kubernetes
//! connection, where Helm's files are) resolved once against Helm's environment variables
//! into one [`Settings`] value, which every command receives and passes on to the actions
//! (nothing below reads those variables again). It also gives the cluster connection and
//! the environment Helm hands its plugins.

use std::path::PathBuf;

use clap::Args;
use rudder_action::release::{self as rel, Cluster, ClusterOptions};
use rudder_action::{Error, HelmPaths};

// The flags every command accepts, before or after its name.
#[derive(Args, Clone)]
pub struct GlobalArgs {
    /// namespace scope for this request
    #[arg(short = 'n', long, global = true, env = "HELM_NAMESPACE")]
    pub namespace: Option<String>,
    /// enable verbose output
    #[arg(long, global = true, env = "HELM_DEBUG")]
    pub debug: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub paths: PathArgs,
}

/// The settings of one invocation: the global flags, with what they leave unset taken from
/// the environment (as Helm's `cli.New()` then its flags).
#[derive(Clone)]
pub struct Settings {
    /// `-n/--namespace` or `HELM_NAMESPACE`.
    pub namespace: Option<String>,
    /// `--debug` or `HELM_DEBUG`.
    pub debug: bool,
    pub kube: KubeArgs,
    /// `--registry-config`, `--repository-config`, `--repository-cache`, `--content-cache`,
    /// else `HELM_*` and the XDG homes.
    pub paths: HelmPaths,
    /// `HELM_DRIVER`: where releases are stored.
    pub driver: Option<String>,
    /// `HELM_DRIVER_SQL_CONNECTION_STRING`: the `sql` driver's database.
    pub sql_connection_string: String,
    /// `HELM_MAX_HISTORY` as `helm env` shows it.
    pub max_history: i64,
}

impl Settings {
    /// The settings from the parsed flags and the process environment.
    pub fn new(args: GlobalArgs) -> Settings {
        Settings::from_lookup(args, |name| std::env::var(name).ok())
    }

    /// The settings from the parsed flags and an environment lookup (a flag wins over its
    /// variable).
    pub fn from_lookup(args: GlobalArgs, lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let path_flags = &args.paths;
        let paths = HelmPaths::from_lookup(|name| {
            let flag = match name {
                "HELM_REGISTRY_CONFIG" => &path_flags.registry_config,
                "HELM_REPOSITORY_CONFIG" => &path_flags.repository_config,
                "HELM_REPOSITORY_CACHE" => &path_flags.repository_cache,
                "HELM_CONTENT_CACHE" => &path_flags.content_cache,
                _ => &None,
            };
            flag.clone().or_else(|| lookup(name))
        });
        Settings {
            paths,
            driver: lookup("HELM_DRIVER").filter(|d| !d.is_empty()),
            sql_connection_string: lookup("HELM_DRIVER_SQL_CONNECTION_STRING").unwrap_or_default(),
            max_history: lookup("HELM_MAX_HISTORY")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(10),
            namespace: args.namespace,
            debug: args.debug,
            kube: args.kube,
        }
    }

    /// The namespace given, else "default" (for commands that render without a cluster).
    pub fn namespace_or_default(&self) -> String {
        self.namespace
            .clone()
            .unwrap_or_else(|| "default".to_string())
    }

    /// `helm env`: Helm's settings as environment variables, sorted by name, or one value.
    pub fn env_text(&self, name: Option<&str>) -> String {
        let vars = self.env_vars();
        match name {
            Some(name) => format!(
                "{}\n",
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("")
            ),
            None => vars.iter().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect(),
        }
    }

    /// Helm's `EnvSettings.EnvVars()`: what `rudder env` prints and plugins get, sorted.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let (kube, namespace, debug) = (&self.kube, &self.namespace, self.debug);
        let paths = &self.paths;
        let path = |p: &std::path::Path| p.display().to_string();
        // Helm's Namespace(): the flag, else the kubeconfig context's, else "default".
        let namespace = namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| {
                let opts = ClusterOptions {
                    connect: rel::ConnectOptions {
                        kubeconfig: kube.kubeconfig.clone(),
                        context: kube.kube_context.clone(),
                        ..rel::ConnectOptions::default()
                    },
                    namespace: None,
                    // Only the kubeconfig is read: no database, nothing sent to a server.
                    driver: Some("secret".into()),
                    sql_connection_string: String::new(),
                    offline_ok: false,
                };
                Cluster::connect(&opts)
                    .map(|c| c.namespace().to_string())
                    .unwrap_or_else(|_| "default".into())
            });
        let max_history = self.max_history;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut vars: Vec<(&str, String)> = vec![
            ("HELM_BIN", std::env::args().next().unwrap_or_default()),
            ("HELM_CACHE_HOME", path(&paths.cache_home)),
            ("HELM_CONFIG_HOME", path(&paths.config_home)),
            ("HELM_DATA_HOME", path(&paths.data_home)),
            ("HELM_DEBUG", debug.to_string()),
            ("HELM_PLUGINS", path(&paths.plugins)),
            ("HELM_REGISTRY_CONFIG", path(&paths.registry_config)),
            ("HELM_REPOSITORY_CACHE", path(&paths.repository_cache)),
            ("HELM_CONTENT_CACHE", path(&paths.content_cache)),
            ("HELM_REPOSITORY_CONFIG", path(&paths.repository_config)),
            ("HELM_NAMESPACE", namespace),
            ("HELM_MAX_HISTORY", max_history.to_string()),
            ("HELM_BURST_LIMIT", kube.burst_limit.to_string()),
            ("HELM_QPS", format!("{:.2}", kube.qps)),
            ("HELM_KUBECONTEXT", text(&kube.kube_context)),
            ("HELM_KUBETOKEN", text(&kube.kube_token)),
            ("HELM_KUBEASUSER", text(&kube.kube_as_user)),
            ("HELM_KUBEASGROUPS", kube.kube_as_group.join(",")),
            ("HELM_KUBEAPISERVER", text(&kube.kube_apiserver)),
            (
                "HELM_KUBECAFILE",
                kube.kube_ca_file.as_deref().map(path).unwrap_or_default(),
            ),
            (
                "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
                kube.kube_insecure_skip_tls_verify.to_string(),
            ),
            ("HELM_KUBETLS_SERVER_NAME", text(&kube.kube_tls_server_name)),
        ];
        if let Some(kubeconfig) = &kube.kubeconfig {
            vars.push(("KUBECONFIG", path(kubeconfig)));
        }
        vars.sort();
        vars
    }

    pub fn connect(&self) -> Result<Cluster, Error> {
        self.connect_or_offline(false)
    }

    /// [`connect`] for a client-side dry run: no kubeconfig is needed.
    pub fn connect_offline(&self) -> Result<Cluster, Error> {
        self.connect_or_offline(true)
    }

    /// [`connect`]; with `offline_ok`, a missing kubeconfig is no error (a client-side dry run
    /// never reaches a server, and Helm's works without one).
    pub fn connect_or_offline(&self, offline_ok: bool) -> Result<Cluster, Error> {
        let (kube, namespace) = (&self.kube, &self.namespace);
        // rudder does not throttle its requests, so --burst-limit and --qps have nothing to set.
        let opts = ClusterOptions {
            connect: rel::ConnectOptions {
                kubeconfig: kube.kubeconfig.clone(),
                context: kube.kube_context.clone(),
                apiserver: kube.kube_apiserver.clone(),
                token: kube.kube_token.clone(),
                ca_file: kube.kube_ca_file.clone(),
                tls_server_name: kube.kube_tls_server_name.clone(),
                insecure_skip_tls_verify: kube.kube_insecure_skip_tls_verify,
                impersonate_user: kube.kube_as_user.clone().filter(|u| !u.is_empty()),
                impersonate_groups: kube.kube_as_group.clone(),
            },
            namespace: namespace.clone(),
            driver: self.driver.clone(),
            sql_connection_string: self.sql_connection_string.clone(),
            offline_ok,
        };
        Cluster::connect(&opts)
    }

    /// Helm's settings for a plugin's environment; `HELM_BIN` is the running rudder (so that a
    /// plugin calling `$HELM_BIN` runs this binary wherever it changes directory to).
    pub fn plugin_env(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = self
            .env_vars()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        if let Ok(exe) = std::env::current_exe() {
            for (k, v) in vars.iter_mut() {
                if k == "HELM_BIN" {
                    *v = exe.display().to_string();
                }
            }
        }
        // Helm exports its unset settings as empty variables; rudder's own flags read an empty
        // variable as a flag without a value, so a plugin calling `$HELM_BIN` would fail. Unset
        // reads the same in a shell.
        vars.retain(|(_, v)| !v.is_empty());
        vars
    }
}

// Helm's global Kubernetes flags, accepted by every command (before or after its name) and
// used by those that talk to a cluster.
#[derive(Args, Clone, Default)]
pub struct KubeArgs {
    /// path to the kubeconfig file
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// name of the kubeconfig context to use
    #[arg(long, global = true, env = "HELM_KUBECONTEXT")]
    kube_context: Option<String>,
    /// the address and the port for the Kubernetes API server
    #[arg(long, global = true, env = "HELM_KUBEAPISERVER")]
    kube_apiserver: Option<String>,
    /// bearer token used for authentication
    #[arg(long, global = true, env = "HELM_KUBETOKEN")]
    kube_token: Option<String>,
    /// the certificate authority file for the Kubernetes API server connection
    #[arg(long, global = true, env = "HELM_KUBECAFILE")]
    kube_ca_file: Option<PathBuf>,
    /// server name to use for Kubernetes API server certificate validation
    #[arg(long, global = true, env = "HELM_KUBETLS_SERVER_NAME")]
    kube_tls_server_name: Option<String>,
    /// if true, the Kubernetes API server's certificate will not be checked for validity
    #[arg(long, global = true, env = "HELM_KUBEINSECURE_SKIP_TLS_VERIFY")]
    kube_insecure_skip_tls_verify: bool,
    /// username to impersonate for the operation
    #[arg(long, global = true, env = "HELM_KUBEASUSER")]
    kube_as_user: Option<String>,
    /// group to impersonate for the operation, this flag can be repeated to specify multiple groups
    #[arg(long, global = true)]
    kube_as_group: Vec<String>,
    /// client-side default throttling limit
    #[arg(long, global = true, default_value_t = 100)]
    burst_limit: i64,
    /// queries per second used when communicating with the Kubernetes API, not including bursting
    #[arg(long, global = true, default_value_t = 0.0)]
    qps: f32,
}

// Helm's global flags for where its files are; one given wins over its environment
// variable (`HELM_REPOSITORY_CONFIG`, ...).
#[derive(Args, Clone)]
pub struct PathArgs {
    /// path to the registry config file
    #[arg(long, global = true)]
    registry_config: Option<String>,
    /// path to the file containing repository names and URLs
    #[arg(long, global = true)]
    repository_config: Option<String>,
    /// path to the directory containing cached repository indexes
    #[arg(long, global = true)]
    repository_cache: Option<String>,
    /// path to the directory containing cached content (e.g. charts)
    #[arg(long, global = true)]
    content_cache: Option<String>,
    /// use colored output (never, auto, always); rudder's output has no colors
    #[arg(long, global = true, alias = "colour")]
    color: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str], env: &[(&str, &str)]) -> Settings {
        let cli = crate::Cli::try_parse_from(["rudder"].iter().chain(args).chain(&["env"]))
            .expect("flags parse");
        Settings::from_lookup(cli.globals, |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_path_flag_wins_over_its_variable_and_the_rest_follow_the_environment() {
        let env = [
            ("HOME", "/h"),
            ("HELM_REPOSITORY_CONFIG", "/env/repositories.yaml"),
            ("HELM_REGISTRY_CONFIG", "/env/registry.json"),
            ("HELM_DRIVER", "sql"),
            ("HELM_DRIVER_SQL_CONNECTION_STRING", "postgres://db"),
            ("HELM_MAX_HISTORY", "3"),
        ];
        let s = settings(&["--repository-config=/flag/repositories.yaml"], &env);
        assert_eq!(
            s.paths.repository_config,
            PathBuf::from("/flag/repositories.yaml")
        );
        assert_eq!(s.paths.registry_config, PathBuf::from("/env/registry.json"));
        assert_eq!(s.driver.as_deref(), Some("sql"));
        assert_eq!(s.sql_connection_string, "postgres://db");
        assert_eq!(s.max_history, 3);
    }

    #[test]
    fn an_empty_flag_or_variable_counts_as_unset() {
        let s = settings(
            &["--repository-cache="],
            &[("HOME", "/h"), ("HELM_DRIVER", "")],
        );
        assert!(s.paths.repository_cache.ends_with("helm/repository"));
        assert_eq!(s.driver, None);
        assert_eq!(s.max_history, 10);
    }
}
