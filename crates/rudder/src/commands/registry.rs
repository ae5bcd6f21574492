//! `rudder registry login|logout` (Helm's pkg/cmd/registry_login.go, registry_logout.go).

use std::io::{Read, Write};

use clap::{Args, Subcommand};
use rudder_action::{self as action, Error, RegistryOptions};

use crate::settings::Settings;

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// login to a registry
    Login(LoginArgs),
    /// logout from a registry
    Logout {
        /// [host]
        host: String,
    },
}

#[derive(Args)]
pub struct LoginArgs {
    /// [host]
    host: String,
    /// registry username
    #[arg(short = 'u', long, default_value = "")]
    username: String,
    /// registry password or identity token
    #[arg(short = 'p', long, default_value = "")]
    password: String,
    /// read password or identity token from stdin
    #[arg(long)]
    password_stdin: bool,
    /// allow connections to TLS registry without certs
    #[arg(long)]
    insecure: bool,
    /// identify registry client using this SSL certificate file
    #[arg(long, default_value = "")]
    cert_file: String,
    /// identify registry client using this SSL key file
    #[arg(long, default_value = "")]
    key_file: String,
    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long, default_value = "")]
    ca_file: String,
    /// use insecure HTTP connections for the chart upload
    #[arg(long)]
    plain_http: bool,
}

/// Helm's `getUsernamePassword`: `--password-stdin` reads the password (one trailing
/// newline dropped); with no password, prompts on the terminal.
fn username_password(args: &LoginArgs) -> Result<(String, String), Error> {
    let mut username = args.username.clone();
    if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(Error::io)?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        return Ok((username, text.to_string()));
    }
    if !args.password.is_empty() {
        eprintln!(
            "{}",
            crate::slog::text_line(&rudder_action::LogRecord::warn(
                "using --password via the CLI is insecure. Use --password-stdin"
            ))
        );
        return Ok((username, args.password.clone()));
    }
    let read_line = |prompt: &str| -> Result<String, Error> {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(Error::io)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    if username.is_empty() {
        username = read_line("Username: ")?.trim().to_string();
    }
    let (prompt, missing) = if username.is_empty() {
        ("Token: ", "token required")
    } else {
        ("Password: ", "password required")
    };
    let password = crate::prompt::read_hidden(prompt).map_err(Error::io)?;
    if password.is_empty() {
        return Err(Error::message(missing));
    }
    Ok((username, password))
}

pub fn run(
    command: RegistryCommand,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let paths = settings.paths.clone();
    let text = match command {
        RegistryCommand::Login(args) => {
            let (username, password) = username_password(&args)?;
            let options = RegistryOptions {
                plain_http: args.plain_http,
                ca_file: args.ca_file.clone(),
                cert_file: args.cert_file.clone(),
                key_file: args.key_file.clone(),
                insecure_skip_tls_verify: args.insecure,
                ..Default::default()
            };
            action::registry_login(&paths, &args.host, &username, &password, &options)?
        }
        RegistryCommand::Logout { host } => action::registry_logout(&paths, &host)?,
    };
    out.write_all(text.as_bytes()).map_err(Error::io)
}
