//! rudder's commands, one module each (as Helm's pkg/cmd/*.go and cargo's
//! src/bin/cargo/commands/*.rs): a module owns its flags, turns them into the action
//! library's options, and prints what the action returns. This file lists the commands and
//! sends each to its module.
//!
//! To add a command: a module here with its `Args` and a `run`, a variant of [`Command`]
//! and its arm in [`run`]. Flags several commands share live in `crate::flags`; the global
//! flags in `crate::settings`.

use std::io::Write;

use clap::{FromArgMatches, Parser, Subcommand};
use rudder_action::Error;

use crate::settings::{GlobalArgs, Settings};

pub mod completion;
pub mod create;
pub mod dependency;
pub mod diff;
pub mod env;
pub mod get;
pub mod history;
pub mod install;
pub mod lint;
pub mod list;
pub mod package;
pub mod plugin;
pub mod pull;
pub mod push;
pub mod registry;
pub mod repo;
pub mod rollback;
pub mod search;
pub mod show;
pub mod status;
pub mod template;
pub mod test;
pub mod uninstall;
pub mod upgrade;
pub mod verify;
pub mod version;

/// rudder's command line: the global flags and a command.
///
/// Its clap parser is put together from [`Root`] and [`Command`] (rather than derived as one)
/// so that [`Cli::command_for`] can build the root with only the command being run: clap
/// copies every global flag into every command of the tree before parsing, which was a sixth
/// of a small chart's `rudder template` (3.6 -> 3.1 ms, 500 -> 300 page faults).
pub struct Cli {
    pub globals: GlobalArgs,
    pub command: Command,
}

/// The root command without its commands: name, version, about and the global flags.
#[derive(Parser)]
#[command(
    name = "rudder",
    version,
    about = "A Helm-compatible Kubernetes package manager"
)]
#[group(id = "Cli")]
struct Root {
    #[command(flatten)]
    globals: GlobalArgs,
}

impl Cli {
    /// The parser for these arguments (the program's name first): the root with only the
    /// command they name when only global flags come before it, else the whole tree (help,
    /// a plugin, a misspelt command, `--version`...), so that parsing and every message are
    /// those of the whole tree.
    pub fn command_for(args: &[std::ffi::OsString]) -> clap::Command {
        use clap::CommandFactory;
        let root = Root::command();
        let named = args
            .get(1..)
            .and_then(|rest| first_operand(rest, &root))
            .and_then(|name| {
                let commands =
                    deferring_nested(|| Command::augment_subcommands(clap::Command::new("rudder")));
                let found = commands
                    .get_subcommands()
                    .find(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
                    .cloned();
                found
            });
        match named {
            Some(command) => with_command_required(root.subcommand(command)),
            None => Cli::command(),
        }
    }
}

/// The first argument that is not a global flag or its value, or `None` where an argument
/// before it is anything else (a flag clap alone should read, `--`, a non-UTF-8 argument).
fn first_operand<'a>(args: &'a [std::ffi::OsString], root: &clap::Command) -> Option<&'a str> {
    let globals: Vec<&clap::Arg> = root.get_arguments().filter(|a| a.is_global_set()).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_str()?;
        let (flag, attached_value) = if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            let flag = globals.iter().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&name))
            })?;
            (flag, value.is_some())
        } else if let Some(short) = arg.strip_prefix('-') {
            let mut chars = short.chars();
            let letter = chars.next()?;
            let flag = globals.iter().find(|a| a.get_short() == Some(letter))?;
            (flag, !chars.as_str().is_empty())
        } else {
            return Some(arg);
        };
        let takes_value = flag.get_action().takes_values();
        if attached_value && !takes_value {
            return None;
        }
        if takes_value && !attached_value {
            args.next()?;
        }
    }
    None
}

/// What deriving `Parser` with a required `#[command(subcommand)]` field sets on the root.
fn with_command_required(root: clap::Command) -> clap::Command {
    root.subcommand_required(true).arg_required_else_help(true)
}

impl clap::CommandFactory for Cli {
    fn command() -> clap::Command {
        with_command_required(Command::augment_subcommands(Root::command()))
    }

    fn command_for_update() -> clap::Command {
        with_command_required(Command::augment_subcommands_for_update(
            Root::command_for_update(),
        ))
    }
}

impl clap::FromArgMatches for Cli {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Cli {
            globals: GlobalArgs::from_arg_matches_mut(matches)?,
            command: Command::from_arg_matches_mut(matches)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.globals.update_from_arg_matches_mut(matches)?;
        self.command.update_from_arg_matches_mut(matches)
    }
}

impl Parser for Cli {}

#[derive(Subcommand)]
// Only the subcommand used gets its flags built: building them all cost more than a small render.
#[command(defer = true)]
pub enum Command {
    /// Locally render templates
    Template(Box<template::TemplateArgs>),
    /// Examine a chart for possible issues
    Lint(lint::LintArgs),
    /// Show information of a chart
    #[command(alias = "inspect", subcommand)]
    Show(Nested<show::ShowCommand>),
    /// download a chart from a repository and (optionally) unpack it in local directory
    #[command(alias = "fetch")]
    Pull(pull::PullArgs),
    /// manage a chart's dependencies
    #[command(alias = "dep", alias = "dependencies", subcommand)]
    Dependency(Nested<dependency::DependencyCommand>),
    /// Package a chart directory into a chart archive
    Package(package::PackageArgs),
    /// search for a keyword in charts
    #[command(subcommand)]
    Search(Nested<search::SearchCommand>),
    /// Add, list, remove, update, and index chart repositories
    #[command(subcommand)]
    Repo(Nested<repo::RepoCommand>),
    /// verify that a chart at the given path has been signed and is valid
    Verify(verify::VerifyArgs),
    /// create a new chart with the given name
    Create(create::CreateArgs),
    /// generate autocompletion scripts for the specified shell
    Completion(completion::CompletionArgs),
    /// Helm client environment information
    Env(env::EnvArgs),
    /// print the version information (that of the Helm release rudder follows, with rudder's own as build metadata)
    Version(version::VersionArgs),
    /// Preview what an upgrade or rollback changes (the helm-diff plugin's commands, built in)
    #[command(subcommand)]
    Diff(Nested<diff::DiffCommand>),
    /// install a chart
    Install(Box<install::InstallArgs>),
    /// upgrade a release
    Upgrade(Box<upgrade::UpgradeArgs>),
    /// roll back a release to a previous revision
    Rollback(rollback::RollbackArgs),
    /// uninstall a release
    #[command(alias = "un", alias = "delete", alias = "del")]
    Uninstall(uninstall::UninstallArgs),
    /// list releases
    #[command(alias = "ls")]
    List(list::ListArgs),
    /// fetch release history
    #[command(alias = "hist")]
    History(history::HistoryArgs),
    /// display the status of the named release
    Status(status::StatusArgs),
    /// download extended information of a named release
    #[command(subcommand)]
    Get(Nested<get::GetCommand>),
    /// run tests for a release
    Test(test::TestArgs),
    /// login to or logout from a registry
    #[command(subcommand)]
    Registry(Nested<registry::RegistryCommand>),
    /// push a chart to remote
    Push(push::PushArgs),
    /// install, list, or uninstall Helm plugins
    #[command(subcommand)]
    Plugin(Nested<plugin::PluginCommand>),
    /// A plugin's name: Helm's plugins are subcommands.
    #[command(external_subcommand)]
    External(Vec<String>),
}

/// A command's own commands (`show chart`, `repo add`...), built at once in the whole tree
/// and only when their command is run in [`Cli::command_for`]'s (clap derive has no `defer`
/// for subcommand variants; building these was most of the cost of listing the commands).
/// Deferring them in the whole tree would change it: clap makes the root's `help` command
/// for completion scripts from the commands before they are built.
pub struct Nested<T>(pub T);

thread_local! {
    static DEFER_NESTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `build()`, with every [`Nested`] command's commands deferred to its own build.
fn deferring_nested<R>(build: impl FnOnce() -> R) -> R {
    DEFER_NESTED.set(true);
    let built = build();
    DEFER_NESTED.set(false);
    built
}

impl<T: Subcommand> Subcommand for Nested<T> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        if DEFER_NESTED.get() {
            cmd.defer(T::augment_subcommands)
        } else {
            T::augment_subcommands(cmd)
        }
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        T::augment_subcommands_for_update(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

impl<T: FromArgMatches> FromArgMatches for Nested<T> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Nested)
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Nested)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

/// Runs the command; returns the exit status for a command that ends without an error but
/// not with success (`diff --detailed-exitcode`), else 0.
pub fn run(command: Command, settings: &Settings) -> Result<u8, Error> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let out: &mut dyn Write = &mut out;
    match command {
        Command::Template(args) => template::run(*args, settings, out)?,
        Command::Lint(args) => lint::run(args, settings, out)?,
        Command::Show(command) => show::run(command.0, settings, out)?,
        Command::Pull(args) => pull::run(args, settings, out)?,
        Command::Dependency(command) => dependency::run(command.0, settings, out)?,
        Command::Package(args) => package::run(args, settings, out)?,
        Command::Search(command) => search::run(command.0, settings, out)?,
        Command::Repo(command) => repo::run(command.0, settings, out)?,
        Command::Verify(args) => verify::run(&args, out)?,
        Command::Create(args) => create::run(&args, settings, out)?,
        Command::Completion(args) => completion::run(&args, out)?,
        Command::Env(args) => env::run(&args, settings, out)?,
        Command::Version(args) => version::run(&args, out)?,
        Command::Diff(command) => {
            let code = diff::run(command.0, settings, out)?;
            // helm-diff's --detailed-exitcode status, once the report is out.
            out.flush().map_err(Error::io)?;
            return Ok(code);
        }
        Command::Install(args) => install::run(*args, settings, out)?,
        Command::Upgrade(args) => upgrade::run(*args, settings, out)?,
        Command::Rollback(args) => rollback::run(args, settings, out)?,
        Command::Uninstall(args) => uninstall::run(args, settings, out)?,
        Command::List(args) => list::run(args, settings, out)?,
        Command::History(args) => history::run(args, settings, out)?,
        Command::Status(args) => status::run(args, settings, out)?,
        Command::Get(command) => get::run(command.0, settings, out)?,
        Command::Test(args) => test::run(args, settings, out)?,
        Command::Registry(command) => registry::run(command.0, settings, out)?,
        Command::Push(args) => push::run(args, settings, out)?,
        Command::Plugin(command) => plugin::run(command.0, settings, out)?,
        // Run by main before the command's work starts (see `plugin::run_external`).
        Command::External(_) => {}
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn commands_built_for(args: &[&str]) -> Vec<String> {
        let args: Vec<std::ffi::OsString> = std::iter::once("rudder")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect();
        let command = Cli::command_for(&args);
        command
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect()
    }

    #[test]
    fn only_the_named_command_is_built_after_global_flags() {
        for args in [
            &["template", "x", "chart", "-n", "ns"][..],
            &["-n", "ns", "template"],
            &["-nns", "template"],
            &["-n=ns", "template"],
            &["--namespace", "template", "template"],
            &["--namespace=ns", "--debug", "template"],
            &["--kube-context", "ctx", "--qps=3", "template"],
        ] {
            assert_eq!(commands_built_for(args), ["template"], "{args:?}");
        }
        assert_eq!(commands_built_for(&["ls"]), ["list"]);
        assert_eq!(commands_built_for(&["inspect", "chart", "x"]), ["show"]);
    }

    #[test]
    fn anything_else_gets_the_whole_tree() {
        let whole = Cli::command().get_subcommands().count();
        for args in [
            &[][..],
            &["--help"],
            &["help", "template"],
            &["--version"],
            &["templat"],
            &["a-plugin", "template"],
            &["--", "template"],
            &["--bogus", "template"],
            &["-x", "template"],
            &["--debug=true", "template"],
            &["-n"],
            &["--namespace"],
        ] {
            assert_eq!(commands_built_for(args).len(), whole, "{args:?}");
        }
    }

    /// `first_operand` skips one argument after a global flag that takes a value: every
    /// such flag must take exactly one.
    #[test]
    fn global_flags_take_one_value_or_none() {
        let mut root = Root::command();
        root.build();
        for arg in root.get_arguments().filter(|a| a.is_global_set()) {
            if arg.get_action().takes_values() {
                let range = arg.get_num_args().expect("built");
                assert_eq!((range.min_values(), range.max_values()), (1, 1), "{arg}");
            }
        }
    }
}
