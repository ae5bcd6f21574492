//! `rudder`: the command line. Flags, help and output only; what each command does lives in
//! the `rudder-action` library. Each command is a module of [`commands`]; this file parses
//! the arguments, runs the command on a worker thread and turns its result into the exit
//! status.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser as _;
use rudder_action as action;

use commands::{Cli, Command};
use settings::Settings;

mod commands;
mod flags;
mod get_template;
mod output;
mod prompt;
mod settings;
mod signals;
mod slog;
#[cfg(test)]
mod surface;

/// glibc gives every thread that allocates an arena of its own, grown one `mprotect` call at
/// a time (over 200 of them for one render of the Milvus chart); rudder's work runs on one
/// worker thread, which the main arena (grown with `brk`) serves with far fewer system
/// calls and page faults.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn use_one_malloc_arena() {
    // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn use_one_malloc_arena() {}

/// `Cli::parse()`, except that clap's command tree is kept to the end of the process: freeing
/// its thousands of strings cost about a tenth of rendering a small chart.
fn parse_command_line() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    let mut matches = command
        .try_get_matches_from_mut(std::env::args_os())
        .unwrap_or_else(|e| e.exit());
    let cli =
        Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut command).exit());
    std::mem::forget(command);
    cli
}

fn main() -> ExitCode {
    use_one_malloc_arena();
    action::skip_render_teardown();
    let cli = parse_command_line();
    if let Command::External(external) = &cli.command {
        let args: Vec<String> = std::env::args().collect();
        let before = &args[..args.len().saturating_sub(external.len())];
        let before_settings = Settings::new(cli.globals.clone());
        return commands::plugin::run_external(external, before, &before_settings, |mut argv| {
            argv.push("env".into());
            let parsed = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
            Ok(Settings::new(parsed.globals))
        });
    }
    // Templates may recurse deeply (Go allows 100000 nested template calls); give the work a
    // large stack instead of risking an overflow.
    let worker = std::thread::Builder::new()
        .stack_size(rudder_value::threads::WORK_STACK)
        .spawn(move || commands::run(cli.command, &Settings::new(cli.globals)));
    let result = match worker {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Err(action::Error::message("internal error: rudder panicked"))),
        Err(e) => Err(action::Error::message(format!("cannot start: {e}"))),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The shell's status for a process ended by SIGPIPE, as Helm's would be.
        Err(e) if e.is_broken_pipe() => ExitCode::from(141),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "Error: {e}");
            ExitCode::FAILURE
        }
    }
}
