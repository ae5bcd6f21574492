//! `rudder completion SHELL`: the shell completion script (Helm's pkg/cmd/completion.go).

use std::io::Write;

use clap::Args;
use rudder_action::Error;

#[derive(Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish or powershell
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell"])]
    shell: String,
    /// disable completion descriptions (accepted for Helm's sake; the scripts carry none)
    #[arg(long)]
    no_descriptions: bool,
}

pub fn run(args: &CompletionArgs, out: &mut dyn Write) -> Result<(), Error> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let _ = args.no_descriptions;
    let shell = match args.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "rudder", &mut script);
    out.write_all(&script).map_err(Error::io)
}
