//! rudder's commands, one module each (as Helm's pkg/cmd/*.go and cargo's
//! src/bin/cargo/commands/*.rs): a module owns its flags, turns them into the action
//! library's options, and prints what the action returns. This file lists the commands and
//! sends each to its module.
//!
//! To add a command: a module here with its `Args` and a `run`, a variant of [`Command`]
//! and its arm in [`run`]. Flags several commands share live in `crate::flags`; the global
//! flags in `crate::settings`.

use std::io::Write;

use clap::{Parser, Subcommand};
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

#[derive(Parser)]
#[command(
    name = "rudder",
    version,
    about = "A Helm-compatible Kubernetes package manager"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

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
    Show(show::ShowCommand),
    /// download a chart from a repository and (optionally) unpack it in local directory
    #[command(alias = "fetch")]
    Pull(pull::PullArgs),
    /// manage a chart's dependencies
    #[command(alias = "dep", alias = "dependencies", subcommand)]
    Dependency(dependency::DependencyCommand),
    /// Package a chart directory into a chart archive
    Package(package::PackageArgs),
    /// search for a keyword in charts
    #[command(subcommand)]
    Search(search::SearchCommand),
    /// Add, list, remove, update, and index chart repositories
    #[command(subcommand)]
    Repo(repo::RepoCommand),
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
    Diff(diff::DiffCommand),
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
    Get(get::GetCommand),
    /// run tests for a release
    Test(test::TestArgs),
    /// login to or logout from a registry
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// push a chart to remote
    Push(push::PushArgs),
    /// install, list, or uninstall Helm plugins
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// A plugin's name: Helm's plugins are subcommands.
    #[command(external_subcommand)]
    External(Vec<String>),
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
        Command::Show(command) => show::run(command, settings, out)?,
        Command::Pull(args) => pull::run(args, settings, out)?,
        Command::Dependency(command) => dependency::run(command, settings, out)?,
        Command::Package(args) => package::run(args, settings, out)?,
        Command::Search(command) => search::run(command, settings, out)?,
        Command::Repo(command) => repo::run(command, settings, out)?,
        Command::Verify(args) => verify::run(&args, out)?,
        Command::Create(args) => create::run(&args, settings, out)?,
        Command::Completion(args) => completion::run(&args, out)?,
        Command::Env(args) => env::run(&args, settings, out)?,
        Command::Version(args) => version::run(&args, out)?,
        Command::Diff(command) => {
            let code = diff::run(command, settings, out)?;
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
        Command::Get(command) => get::run(command, settings, out)?,
        Command::Test(args) => test::run(args, settings, out)?,
        Command::Registry(command) => registry::run(command, settings, out)?,
        Command::Push(args) => push::run(args, settings, out)?,
        Command::Plugin(command) => plugin::run(command, settings, out)?,
        // Run by main before the worker thread starts (see `plugin::run_external`).
        Command::External(_) => {}
    }
    Ok(0)
}
