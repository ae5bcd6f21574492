//! `rudder`: the command line. Flags, help and output only; what each command does lives in
//! the `rudder-action` library. Each command is a module of [`commands`]; this file parses
//! the arguments, runs the command on a large stack of its own and turns its result into the
//! exit status.

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

/// Allocator settings for a short-lived process that allocates many small objects.
///
/// - glibc gives every thread that allocates an arena of its own, grown one `mprotect` call
///   at a time (over 200 of them for one render of the Milvus chart); one arena, grown with
///   `brk`, serves rudder's few threads with far fewer system calls and page faults.
/// - Page faults were a fifth of a render's time (a fresh 4 KiB page for every few small
///   allocations). The heap is grown in one 64 MiB step (address space only: a page is
///   backed when first touched) and marked for transparent huge pages, so a fault backs
///   2 MiB at once where the system allows it (THP `madvise` or `always`): about a third of
///   the faults and 10-15% less CPU on charts with subcharts. The heap starts on a 2 MiB
///   boundary, so that its first huge page covers the first allocations too: a small chart
///   faults in about 35 pages of heap instead of 108. Peak memory grows by at most a huge
///   page per region in use.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    const HEAP_STEP: usize = 64 << 20;
    const HUGE_PAGE: usize = 2 << 20;
    // SAFETY: no other thread exists yet. mallopt only sets allocator parameters; sbrk only
    // extends the break over address space nothing uses (glibc's malloc expects a break
    // moved by others); the block allocated and freed at once only makes malloc grow the
    // heap; madvise gets a range inside the heap mapping (from the boundary to the break
    // after the growth), and MADV_HUGEPAGE changes how pages are backed, never their
    // contents.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // Blocks up to 32 MiB come from the heap (and its huge pages), and freed memory
        // stays there for reuse instead of going back to the system.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TOP_PAD, HEAP_STEP as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, (2 * HEAP_STEP) as libc::c_int);
        // The heap grows on from a page below a huge-page boundary: the break moves past
        // the gap up to it (address space only; malloc takes a break moved by another as
        // the end of its own space and starts afresh above it), so that the heap's first
        // 2 MiB are a huge page too rather than up to 2 MiB of 4 KiB pages faulted in one
        // by one. The page below the boundary takes the headers malloc writes while it
        // grows the heap, before the range is marked: a page touched in a 2 MiB range
        // before marking keeps the whole range out of huge pages.
        let page = libc::sysconf(libc::_SC_PAGESIZE).max(1) as usize;
        let before = libc::sbrk(0) as usize;
        let start = (before + page).next_multiple_of(HUGE_PAGE);
        libc::sbrk((start - page - before) as libc::intptr_t);
        // black_box: a malloc freed at once may otherwise be optimised away. Its size puts
        // the header malloc writes after the block half-way up the heap (in a 2 MiB range
        // that only the largest renders reach), under the mmap threshold set above.
        libc::free(std::hint::black_box(libc::malloc(HEAP_STEP / 2 - page)));
        let after = libc::sbrk(0) as usize;
        if after > start + HUGE_PAGE {
            libc::madvise(
                start as *mut libc::c_void,
                after - start,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// Inflated chart archives, parsed templates and schema validations that passed are kept
/// under Helm's cache home (see `action::enable_archive_cache`, `action::enable_template_cache`
/// and `action::enable_schema_cache`), unless `RUDDER_ARCHIVE_CACHE`, `RUDDER_TEMPLATE_CACHE`
/// or `RUDDER_SCHEMA_CACHE` is `off`.
fn enable_caches(settings: &Settings) {
    let off = |variable: &str| std::env::var_os(variable).is_some_and(|v| v == "off");
    if !off("RUDDER_ARCHIVE_CACHE") {
        action::enable_archive_cache(settings.paths.cache_home.join("rudder-archives"));
    }
    if !off("RUDDER_TEMPLATE_CACHE") {
        action::enable_template_cache(settings.paths.cache_home.join("rudder-templates"));
    }
    if !off("RUDDER_SCHEMA_CACHE") {
        action::enable_schema_cache(settings.paths.cache_home.join("rudder-schemas"));
    }
}

/// `Cli::parse()`, except that the command tree holds only the command being run where it
/// can (`Cli::command_for`), and is kept to the end of the process: freeing its thousands of
/// strings cost about a tenth of rendering a small chart.
fn parse_command_line() -> Cli {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut command = Cli::command_for(&args);
    let mut matches = command
        .try_get_matches_from_mut(args)
        .unwrap_or_else(|e| e.exit());
    let cli =
        Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut command).exit());
    std::mem::forget(command);
    cli
}

fn main() -> ExitCode {
    tune_malloc();
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
    // Templates may recurse deeply (Go allows 100000 nested template calls), so the work
    // runs on a large stack, switched to on this thread (stacker) rather than given to a
    // worker thread: the thread's start, and at the end waking the main thread on the other
    // core to join it before the process could exit, cost 0.5 ms of the 2 ms the `helm
    // create` chart takes (paired runs: 0.76x wall; PostgreSQL 0.90x, Milvus 0.93x).
    let result = std::panic::catch_unwind(move || {
        stacker::grow(rudder_value::threads::WORK_STACK, move || {
            let settings = Settings::new(cli.globals);
            enable_caches(&settings);
            commands::run(cli.command, &settings)
        })
    })
    .unwrap_or_else(|_| Err(action::Error::message("internal error: rudder panicked")));
    exit_code(result)
}

/// The exit status for a command's result, after printing its error as Helm does.
fn exit_code(result: Result<u8, action::Error>) -> ExitCode {
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
