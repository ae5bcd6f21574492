//! Releases in PostgreSQL (`HELM_DRIVER=sql`, Helm's `pkg/storage/driver/sql.go`), in the
//! very tables Helm uses, so `helm` and `rudder` share one database.
//!
//! Helm keeps one row per revision in `releases_v1` (the record `body` is the same
//! `base64(gzip(json))` as in a ConfigMap; the system labels are columns) and the user labels
//! in `custom_labels_v1`. It creates both through the Go library sql-migrate, which records
//! the applied migrations `custom_labels` and `init` in its table `gorp_migrations`. rudder
//! does the same steps itself: it reads `gorp_migrations`, and when a migration is missing it
//! creates that table if needed, runs the missing migration's DDL (the same tables, indexes,
//! grants and row-level security as Helm) and records it, one transaction per migration. So
//! Helm sees rudder's schema as already migrated, and rudder accepts Helm's.
//!
//! Helm writes its identifiers unquoted (`createdAt`, `releaseKey`), so PostgreSQL folds them
//! to lower case; rudder writes them unquoted too, which names the same columns.
//!
//! Where Helm's driver differs from the others, rudder follows Helm's:
//! - `get` and `delete` look in the driver's namespace only (an empty namespace matches
//!   records stored with an empty namespace, i.e. none); `create` and `update` store a record
//!   without namespace under `default`, and make the record's namespace the driver's own, as
//!   Helm's driver does.
//! - `update` of a missing record changes nothing and is not an error.
//! - `query` accepts only the system labels (the columns), else `unknown label <key>`.
//! - `list` and `query` skip records whose body does not decode.
//!
//! Deliberate differences: a key that already exists is reported as
//! [`Error::Exists`] (PostgreSQL's unique violation; Helm means to, but the check it runs
//! after a failed insert fails in the aborted transaction, so it passes on the database
//! error); database errors other than "no such row" are reported as such rather than as "not
//! found"; and the user labels of listed records are read from each record's namespace (Helm
//! reads them from the driver's, which finds none when listing all namespaces).
//!
//! The connection goes through the `postgres` crate (blocking), over TLS (rustls) unless
//! the connection string says `sslmode=disable`: see [`tls`] for `sslmode`, `sslrootcert`,
//! `sslcert` and `sslkey`. As with Helm's client (lib/pq), no `sslmode` means `require`.

mod tls;

use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use postgres::error::SqlState;
use postgres::{Client, GenericClient, NoTls};

use crate::driver::{Driver, SYSTEM_LABELS};
use crate::release::{decode, encode, Release};
use crate::Error;

/// The releases table.
pub const RELEASES_TABLE: &str = "releases_v1";
/// The user labels table.
pub const CUSTOM_LABELS_TABLE: &str = "custom_labels_v1";
/// sql-migrate's bookkeeping table (its default name).
pub const MIGRATIONS_TABLE: &str = "gorp_migrations";

const RECORD_TYPE: &str = "helm.sh/release.v1";
const OWNER: &str = "helm";

/// Helm's migrations, in the order sql-migrate applies them (ids sorted as strings).
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "custom_labels",
        // Label keys up to 253 + 1 + 63 characters and values up to 63, as Kubernetes labels.
        "CREATE TABLE custom_labels_v1 (
            releaseKey VARCHAR(64),
            releaseNamespace VARCHAR(67),
            key VARCHAR(317),
            value VARCHAR(63)
        );
        CREATE INDEX ON custom_labels_v1 (releaseKey, releaseNamespace);
        GRANT ALL ON custom_labels_v1 TO PUBLIC;
        ALTER TABLE custom_labels_v1 ENABLE ROW LEVEL SECURITY;",
    ),
    (
        "init",
        "CREATE TABLE releases_v1 (
            key VARCHAR(90),
            type VARCHAR(64) NOT NULL,
            body TEXT NOT NULL,
            name VARCHAR(64) NOT NULL,
            namespace VARCHAR(64) NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            owner TEXT NOT NULL,
            createdAt INTEGER NOT NULL,
            modifiedAt INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(key, namespace)
        );
        CREATE INDEX ON releases_v1 (key, namespace);
        CREATE INDEX ON releases_v1 (version);
        CREATE INDEX ON releases_v1 (status);
        CREATE INDEX ON releases_v1 (owner);
        CREATE INDEX ON releases_v1 (createdAt);
        CREATE INDEX ON releases_v1 (modifiedAt);
        GRANT ALL ON releases_v1 TO PUBLIC;
        ALTER TABLE releases_v1 ENABLE ROW LEVEL SECURITY;",
    ),
];

/// The labels `query` can filter on: the columns of `releases_v1` that hold them.
const QUERY_COLUMNS: &[&str] = &[
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];
const INTEGER_COLUMNS: &[&str] = &["version", "createdAt", "modifiedAt"];

/// A database error with its causes (`db error: ERROR: ...`, `error performing TLS
/// handshake: invalid peer certificate: ...`), and for a refused certificate what it means.
pub(crate) fn describe(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    if let Some(meaning) = tls::explain(error) {
        text.push_str(&format!(" ({meaning})"));
    }
    text
}

/// Releases in a PostgreSQL database, seen from one namespace (empty: every namespace, for
/// listing).
pub struct Sql {
    client: Arc<Mutex<Client>>,
    namespace: Mutex<String>,
}

impl Sql {
    /// Connects with a connection string as Helm takes it from
    /// `HELM_DRIVER_SQL_CONNECTION_STRING` (`postgres://user@host:port/db?sslmode=disable` or
    /// `host=... port=... user=... dbname=...`), and creates Helm's tables if they are missing.
    pub fn connect(connection: &str, namespace: &str) -> Result<Sql, Error> {
        let (rest, mut tls_settings) = tls::split(connection)?;
        let mut config = postgres::Config::from_str(&rest)?;
        // As lib/pq: no TLS over a Unix socket (PostgreSQL offers none there).
        #[cfg(unix)]
        if config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, postgres::config::Host::Unix(_)))
        {
            tls_settings.mode = tls::Mode::Disable;
        }
        config.ssl_mode(tls_settings.ssl_mode());
        let connected = if tls_settings.mode == tls::Mode::Disable {
            config.connect(NoTls)
        } else {
            let tls_config = tls::client_config(&tls_settings)?;
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls_config))
        };
        let mut client = connected.map_err(|source| Error::SqlConnect {
            settings: tls_settings.describe(),
            source,
        })?;
        ensure_schema(&mut client)?;
        Ok(Sql {
            client: Arc::new(Mutex::new(client)),
            namespace: Mutex::new(namespace.to_string()),
        })
    }

    /// The same database seen from another namespace.
    pub fn with_namespace(&self, namespace: &str) -> Sql {
        Sql {
            client: self.client.clone(),
            namespace: Mutex::new(namespace.to_string()),
        }
    }

    pub fn namespace(&self) -> String {
        self.namespace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The namespace a record is stored under; it becomes the driver's, as in Helm.
    fn adopt_namespace(&self, release: &Release) -> String {
        let namespace = if release.namespace.is_empty() {
            "default".to_string()
        } else {
            release.namespace.clone()
        };
        *self.namespace.lock().unwrap_or_else(|e| e.into_inner()) = namespace.clone();
        namespace
    }

    /// Decodes the rows `(key, namespace, body)` of a list or query, skipping bodies that do
    /// not decode, with each record's user labels.
    fn decode_rows(
        &self,
        client: &mut Client,
        rows: &[postgres::Row],
    ) -> Result<Vec<Release>, Error> {
        let mut out = Vec::new();
        for row in rows {
            let key: String = row.get(0);
            let namespace: String = row.get(1);
            let body: String = row.get(2);
            let Ok(mut release) = decode(&body) else {
                continue;
            };
            release.labels = custom_labels(client, &key, &namespace)?;
            out.push(release);
        }
        Ok(out)
    }
}

fn unix_now() -> Result<i32, Error> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i32::try_from(secs).map_err(|_| Error::Other("the time does not fit Helm's SQL schema".into()))
}

fn version_column(release: &Release) -> Result<i32, Error> {
    i32::try_from(release.version)
        .map_err(|_| Error::Other(format!("release version {} is too large", release.version)))
}

/// The user labels of a record (system labels dropped, as Helm does).
fn custom_labels<C: GenericClient>(
    client: &mut C,
    key: &str,
    namespace: &str,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let rows = client.query(
        "SELECT key, value FROM custom_labels_v1 WHERE releaseKey = $1 AND releaseNamespace = $2",
        &[&key, &namespace],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let k: Option<String> = r.get(0);
            let v: Option<String> = r.get(1);
            (k.unwrap_or_default(), v.unwrap_or_default())
        })
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .collect())
}

/// The migrations sql-migrate has recorded, or `None` when its table does not exist.
fn applied_migrations(client: &mut Client) -> Result<Option<Vec<String>>, Error> {
    match client.query(
        r#"SELECT "id" FROM "gorp_migrations" ORDER BY "id" ASC"#,
        &[],
    ) {
        Ok(rows) => Ok(Some(rows.iter().map(|r| r.get(0)).collect())),
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Brings the database to Helm's schema, as Helm's driver does when it connects.
pub fn ensure_schema(client: &mut Client) -> Result<(), Error> {
    let applied = applied_migrations(client)?;
    let all_applied = applied
        .as_ref()
        .is_some_and(|ids| MIGRATIONS.iter().all(|(id, _)| ids.iter().any(|a| a == id)));
    if all_applied {
        return Ok(());
    }
    // Several clients starting together against a new database would each create the
    // tables, and all but one fail on the others' half-made ones: one migrates at a time
    // (a session lock, as the migrations commit one by one), and each reads what is applied
    // only once it holds the lock.
    client.execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])?;
    let migrated = migrate(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK]);
    migrated?;
    unlocked?;
    Ok(())
}

/// The advisory lock rudder holds while it creates Helm's tables (any fixed number; the
/// bytes of "rudder-m").
const SCHEMA_LOCK: i64 = 0x7275_6464_6572_2d6d;

fn migrate(client: &mut Client) -> Result<(), Error> {
    client.batch_execute(
        r#"create table if not exists "gorp_migrations" ("id" text not null primary key, "applied_at" timestamp with time zone)"#,
    )?;
    let applied = applied_migrations(client)?.unwrap_or_default();
    // sql-migrate refuses a database that has migrations it does not know.
    if let Some(unknown) = applied
        .iter()
        .find(|id| !MIGRATIONS.iter().any(|(known, _)| known == id))
    {
        return Err(Error::Other(format!(
            "Unable to create migration plan because of {unknown}: unknown migration in database"
        )));
    }
    for (id, up) in MIGRATIONS {
        if applied.iter().any(|a| a == id) {
            continue;
        }
        let mut tx = client.transaction()?;
        tx.batch_execute(up)?;
        tx.execute(
            r#"insert into "gorp_migrations" ("id","applied_at") values ($1, now())"#,
            &[id],
        )?;
        tx.commit()?;
    }
    Ok(())
}

impl Driver for Sql {
    fn name(&self) -> &'static str {
        "SQL"
    }

    fn get(&self, key: &str) -> Result<Release, Error> {
        let namespace = self.namespace();
        let mut client = self.client();
        let row = client.query_opt(
            "SELECT body FROM releases_v1 WHERE key = $1 AND namespace = $2",
            &[&key, &namespace],
        )?;
        let body: String = row.ok_or(Error::NotFound)?.get(0);
        let mut release = decode(&body).map_err(Error::Codec)?;
        release.labels = custom_labels(&mut *client, key, &namespace)?;
        Ok(release)
    }

    fn list(&self) -> Result<Vec<Release>, Error> {
        let namespace = self.namespace();
        let mut client = self.client();
        let rows = if namespace.is_empty() {
            client.query(
                "SELECT key, namespace, body FROM releases_v1 WHERE owner = $1",
                &[&OWNER],
            )?
        } else {
            client.query(
                "SELECT key, namespace, body FROM releases_v1 WHERE owner = $1 AND namespace = $2",
                &[&OWNER, &namespace],
            )?
        };
        self.decode_rows(&mut client, &rows)
    }

    fn query(&self, labels: &[(&str, &str)]) -> Result<Vec<Release>, Error> {
        let mut wanted: Vec<(&str, &str)> = labels.to_vec();
        wanted.sort();
        let mut conditions = Vec::new();
        let mut params: Vec<String> = Vec::new();
        for (key, value) in &wanted {
            if !QUERY_COLUMNS.contains(key) {
                return Err(Error::Other(format!("unknown label {key}")));
            }
            params.push(value.to_string());
            // The value is sent as text; integer columns convert it (an error if it is not a
            // number, as when Helm sends it).
            if INTEGER_COLUMNS.contains(key) {
                conditions.push(format!("{key} = ${}::text::integer", params.len()));
            } else {
                conditions.push(format!("{key} = ${}", params.len()));
            }
        }
        let namespace = self.namespace();
        if !namespace.is_empty() {
            params.push(namespace);
            conditions.push(format!("namespace = ${}", params.len()));
        }
        let mut sql = "SELECT key, namespace, body FROM releases_v1".to_string();
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        let args: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let mut client = self.client();
        let rows = client.query(sql.as_str(), &args)?;
        let found = self.decode_rows(&mut client, &rows)?;
        if found.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(found)
    }

    fn create(&self, key: &str, release: &Release) -> Result<(), Error> {
        let namespace = self.adopt_namespace(release);
        let body = encode(release).map_err(Error::Codec)?;
        let version = version_column(release)?;
        let now = unix_now()?;
        let mut client = self.client();
        let mut tx = client.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO releases_v1 (key, type, body, name, namespace, version, status, owner, createdAt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &key,
                &RECORD_TYPE,
                &body,
                &release.name,
                &namespace,
                &version,
                &release.status(),
                &OWNER,
                &now,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Err(Error::Exists),
            Err(e) => return Err(e.into()),
        }
        for (k, v) in &release.labels {
            if SYSTEM_LABELS.contains(&k.as_str()) {
                continue;
            }
            tx.execute(
                "INSERT INTO custom_labels_v1 (releaseKey, releaseNamespace, key, value) \
                 VALUES ($1, $2, $3, $4)",
                &[&key, &namespace, k, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn update(&self, key: &str, release: &Release) -> Result<(), Error> {
        let namespace = self.adopt_namespace(release);
        let body = encode(release).map_err(Error::Codec)?;
        let version = version_column(release)?;
        let now = unix_now()?;
        self.client().execute(
            "UPDATE releases_v1 SET body = $1, name = $2, version = $3, status = $4, owner = $5, \
             modifiedAt = $6 WHERE key = $7 AND namespace = $8",
            &[
                &body,
                &release.name,
                &version,
                &release.status(),
                &OWNER,
                &now,
                &key,
                &namespace,
            ],
        )?;
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<Release, Error> {
        let namespace = self.namespace();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        let row = tx.query_opt(
            "SELECT body FROM releases_v1 WHERE key = $1 AND namespace = $2",
            &[&key, &namespace],
        )?;
        let body: String = row.ok_or(Error::NotFound)?.get(0);
        let mut release = decode(&body).map_err(Error::Codec)?;
        tx.execute(
            "DELETE FROM releases_v1 WHERE key = $1 AND namespace = $2",
            &[&key, &namespace],
        )?;
        release.labels = custom_labels(&mut tx, key, &namespace)?;
        tx.execute(
            "DELETE FROM custom_labels_v1 WHERE releaseKey = $1 AND releaseNamespace = $2",
            &[&key, &namespace],
        )?;
        tx.commit()?;
        Ok(release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_connection_names_the_tls_settings_and_the_cause() {
        // Nothing listens on port 1. lib/pq's default mode is require.
        for (connection, settings) in [
            ("postgres://u@127.0.0.1:1/db", "sslmode=require"),
            (
                "host=127.0.0.1 port=1 user=u sslmode=prefer",
                "sslmode=prefer",
            ),
            (
                "postgres://u@127.0.0.1:1/db?sslmode=disable",
                "sslmode=disable",
            ),
        ] {
            let err = Sql::connect(connection, "default").err().unwrap();
            assert!(matches!(err, Error::SqlConnect { .. }), "{err}");
            assert!(
                err.to_string().starts_with(&format!(
                    "could not connect to PostgreSQL ({settings}): error connecting to server: "
                )),
                "{connection}: {err}"
            );
        }
    }
}
