//! Throwaway databases on the test PostgreSQL server (RUDDER_TEST_POSTGRES, started by
//! scripts/postgres). Shared by the storage crate's SQL tests and the binary's release tests
//! (included there by path), so that both make databases the same way.

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};

/// `connection` with its database replaced by `db`.
pub fn with_database(connection: &str, db: &str) -> String {
    if let Some(rest) = connection
        .strip_prefix("postgres://")
        .or_else(|| connection.strip_prefix("postgresql://"))
    {
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let host = address.split('/').next().unwrap();
        let mut out = format!("postgres://{host}/{db}");
        if !query.is_empty() {
            out.push('?');
            out.push_str(query);
        }
        out
    } else {
        format!("{connection} dbname={db}")
    }
}

/// A new, empty database on the test server, named after `what`, this process and a counter
/// (one left by an earlier process of the same id is dropped first); its connection string.
pub fn fresh_database(server: &str, what: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let db = format!(
        "{what}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = Client::connect(server, NoTls).expect("connect to RUDDER_TEST_POSTGRES");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("drop database");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create database");
    with_database(server, &db)
}
