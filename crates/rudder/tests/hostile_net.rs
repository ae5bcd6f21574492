//! The binary against servers on loopback that stall or guard their content (issue 14,
//! items 3 and 8):
//!
//! - `repo add` and `repo update` honour `--timeout` against a server that accepts and
//!   never answers;
//! - `pull --repo` with `--username/--password` sends them with the chart download when the
//!   chart is on the repository's origin (Helm's pull sends them to wherever the index
//!   points; rudder keeps them to the origin unless `--pass-credentials`);
//! - the password prompt of `repo add` does not echo what is typed (run on a
//!   pseudo-terminal, as a person would type it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A Helm home of its own.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        let p = self.path();
        cmd.args(args)
            .current_dir(p)
            .env("HELM_CONFIG_HOME", p.join("config"))
            .env("HELM_CACHE_HOME", p.join("cache"))
            .env("HELM_DATA_HOME", p.join("data"))
            .env("HELM_REPOSITORY_CONFIG", p.join("repositories.yaml"))
            .env("HELM_REPOSITORY_CACHE", p.join("cache/repository"));
        cmd
    }
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("rudder runs")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server that accepts connections and never answers; they stay open while the test
/// process runs.
fn stalling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

#[test]
fn repo_add_and_update_give_up_at_their_timeout() {
    let url = stalling_server();
    let home = Home::new();
    let start = Instant::now();
    let out = home.run(&["repo", "add", "stalled", &url, "--timeout", "1s"]);
    let took = start.elapsed();
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "Error: looks like \"{url}\" is not a valid chart repository or cannot be reached: failed to fetch {url}/index.yaml : timed out: the request did not complete within 1s\n"
        )
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!home.path().join("repositories.yaml").exists());

    std::fs::write(
        home.path().join("repositories.yaml"),
        format!("apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n- name: stalled\n  url: {url}\n"),
    )
    .unwrap();
    let start = Instant::now();
    let out = home.run(&["repo", "update", "--timeout", "1500ms"]);
    let took = start.elapsed();
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "...Unable to get an update from the \"stalled\" chart repository ({url}):\n\tfailed to fetch {url}/index.yaml : timed out: the request did not complete within 1.5s\n"
        )),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// Paths asked for and the Authorization header each came with.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `files` (path → body) to requests with `Basic <auth>` and answers 401 otherwise
/// (or to every request when `auth` is empty); records every request.
fn guarded_server(files: Vec<(String, Vec<u8>)>, auth: &'static str) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let record = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Some((path, authorization)) = read_head(&stream) else {
                continue;
            };
            record
                .lock()
                .unwrap()
                .push((path.clone(), authorization.clone()));
            let allowed = auth.is_empty() || authorization.as_deref() == Some(auth);
            let body = files.iter().find(|(p, _)| *p == path).map(|(_, b)| b);
            let mut out = stream;
            let _ = match (allowed, body) {
                (false, _) => out.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
                (true, None) => out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
                (true, Some(body)) => out
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| out.write_all(body)),
            };
        }
    });
    (format!("http://{addr}"), log)
}

fn read_head(stream: &TcpStream) -> Option<(String, Option<String>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let path = first.split_whitespace().nth(1)?.to_string();
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            }
        }
    }
    Some((path, authorization))
}

/// A chart archive of `demo` 0.1.0.
fn chart_archive() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let chart = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
    let mut header = tar::Header::new_gnu();
    header.set_path("demo/Chart.yaml").unwrap();
    header.set_size(chart.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &chart[..]).unwrap();
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn index_pointing_at(url: &str) -> Vec<u8> {
    format!(
        "apiVersion: v1\nentries:\n  demo:\n  - apiVersion: v2\n    name: demo\n    version: 0.1.0\n    urls:\n    - {url}\n"
    )
    .into_bytes()
}

/// `Basic base64("alice:s3cret")`.
const ALICE: &str = "Basic YWxpY2U6czNjcmV0";

#[test]
fn pull_with_repo_sends_credentials_to_the_chart_on_the_repository_origin() {
    let archive = chart_archive();
    let (base, log) = guarded_server(
        vec![
            (
                "/charts/index.yaml".into(),
                index_pointing_at("demo-0.1.0.tgz"),
            ),
            ("/charts/demo-0.1.0.tgz".into(), archive.clone()),
        ],
        ALICE,
    );
    let home = Home::new();
    let repo = format!("{base}/charts");
    let out = home.run(&[
        "pull",
        "demo",
        "--repo",
        &repo,
        "--username",
        "alice",
        "--password",
        "s3cret",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(home.path().join("demo-0.1.0.tgz")).unwrap(),
        archive
    );
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("/charts/index.yaml".to_string(), Some(ALICE.to_string())),
            (
                "/charts/demo-0.1.0.tgz".to_string(),
                Some(ALICE.to_string())
            ),
        ]
    );
}

#[test]
fn pull_with_repo_keeps_credentials_from_other_hosts() {
    let archive = chart_archive();
    let (elsewhere, elsewhere_log) =
        guarded_server(vec![("/demo-0.1.0.tgz".into(), archive.clone())], "");
    let (base, _) = guarded_server(
        vec![(
            "/charts/index.yaml".into(),
            index_pointing_at(&format!("{elsewhere}/demo-0.1.0.tgz")),
        )],
        ALICE,
    );
    let home = Home::new();
    let repo = format!("{base}/charts");
    let args = [
        "pull",
        "demo",
        "--repo",
        &repo,
        "--username",
        "alice",
        "--password",
        "s3cret",
    ];
    let out = home.run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        elsewhere_log.lock().unwrap().clone(),
        [("/demo-0.1.0.tgz".to_string(), None)]
    );
    // Unless passed to every host.
    std::fs::remove_file(home.path().join("demo-0.1.0.tgz")).unwrap();
    let mut all = args.to_vec();
    all.push("--pass-credentials");
    let out = home.run(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        elsewhere_log.lock().unwrap().last().unwrap(),
        &("/demo-0.1.0.tgz".to_string(), Some(ALICE.to_string()))
    );
}

/// Runs `cmd` with its standard streams on a new pseudo-terminal, types `input` once the
/// prompt `prompt` shows, and returns everything the terminal displayed (the program's
/// output and, had echo been on, what was typed) and whether it succeeded.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn on_terminal(mut cmd: Command, prompt: &str, input: &str) -> (bool, String) {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;

    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the given integers; the other
    // arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    // SAFETY: setsid and ioctl are async-signal-safe; the terminal becomes the child's
    // controlling terminal (/dev/tty), as in a login session.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("rudder runs");
    // The terminal reads end (EIO) only once no one holds its other side: not this
    // process, nor the Command's copies.
    drop(cmd);
    drop(slave);
    // Should rudder wait for input that never comes, end it so the test fails, not hangs.
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (finished, pid) = (finished.clone(), child.id() as libc::pid_t);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            if !finished.load(std::sync::atomic::Ordering::SeqCst) {
                // SAFETY: the child is not reaped before `finished` is set, so the pid is
                // still the child's.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
    }
    let mut terminal = std::fs::File::from(master);
    let mut shown = Vec::new();
    let mut buf = [0u8; 4096];
    let mut typed = false;
    loop {
        match terminal.read(&mut buf) {
            Ok(0) | Err(_) => break, // EIO once the child's side is closed
            Ok(n) => shown.extend_from_slice(&buf[..n]),
        }
        if !typed && text(&shown).contains(prompt) {
            // Give the prompt a moment to turn echo off before typing, as a person would.
            std::thread::sleep(Duration::from_millis(300));
            terminal.write_all(input.as_bytes()).unwrap();
            typed = true;
        }
    }
    finished.store(true, std::sync::atomic::Ordering::SeqCst);
    let status = child.wait().unwrap();
    (status.success(), text(&shown))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn repo_add_password_prompt_does_not_echo() {
    let (base, log) = guarded_server(
        vec![(
            "/charts/index.yaml".into(),
            index_pointing_at("demo-0.1.0.tgz"),
        )],
        ALICE,
    );
    let home = Home::new();
    let repo = format!("{base}/charts");
    let cmd = home.command(&["repo", "add", "private", &repo, "--username", "alice"]);
    let (ok, shown) = on_terminal(cmd, "Password: ", "s3cret\n");
    assert!(ok, "{shown}");
    assert!(
        !shown.contains("s3cret"),
        "the password was echoed: {shown:?}"
    );
    assert!(
        shown.contains("\"private\" has been added to your repositories"),
        "{shown:?}"
    );
    // What was typed is what reached the server.
    assert_eq!(
        log.lock().unwrap().clone(),
        [("/charts/index.yaml".to_string(), Some(ALICE.to_string()))]
    );
}
