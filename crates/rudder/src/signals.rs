//! SIGINT and SIGTERM during `install`, `upgrade` and `rollback`, as Helm handles them
//! (pkg/cmd/install.go and upgrade.go): the first prints `Release NAME has been cancelled.`
//! and cancels the operation, which then records its revision as failed and ends with
//! "context canceled". Helm ignores any further signal; rudder ends at once on the second
//! (status 130), so that a cancellation that cannot reach the cluster can still be
//! abandoned.
//!
//! The signals are received with tokio's (which the Kubernetes client already depends on) on
//! a thread of their own.

use std::future::poll_fn;
use std::io::Write;
use std::os::fd::AsFd;
use std::task::Poll;

use rudder_action::release::Cancel;
use tokio::signal::unix::{signal, SignalKind};

/// Cancels the returned token when rudder gets SIGINT or SIGTERM; `release` names the
/// release in the message, as Helm's first argument does.
pub fn cancel_on_signal(release: &str) -> Cancel {
    let cancel = Cancel::new();
    let token = cancel.clone();
    let message = format!("Release {release} has been cancelled.\n");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        // Without a runtime, signals keep their default action (rudder ends at once).
        Err(_) => return cancel,
    };
    // Registered here, before the operation starts, so that no early signal is missed.
    let registered = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    });
    let Ok((mut interrupt, mut terminate)) = registered else {
        return cancel;
    };
    std::thread::spawn(move || {
        runtime.block_on(async {
            let mut received = 0;
            loop {
                poll_fn(|cx| {
                    let interrupted = interrupt.poll_recv(cx).is_ready();
                    let terminated = terminate.poll_recv(cx).is_ready();
                    if interrupted || terminated {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
                received += 1;
                if received > 1 {
                    std::process::exit(130);
                }
                // The command holds the lock of Rust's stdout while it runs: write to a
                // duplicate of the descriptor instead, which takes no lock.
                if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
                    let _ = std::fs::File::from(fd).write_all(message.as_bytes());
                }
                token.cancel();
            }
        });
    });
    cancel
}
