//! The SQL driver against a real PostgreSQL (scripts/postgres, started by scripts/test, which
//! sets RUDDER_TEST_POSTGRES to its connection string). Each test works in a database of its
//! own, so they run in parallel.
//!
//! The schema test also runs real Helm (helm-python-sdk through RUDDER_HELM_PYTHON): Helm's
//! SQL driver creates its tables when a command starts, before it contacts the cluster, so
//! pointing it at an unreachable API server is enough to have it migrate a database.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use postgres::{Client, NoTls};
use rudder_storage::{make_key, status, Driver, Error, Release, Sql, Storage};

#[path = "support/postgres_db.rs"]
mod postgres_db;
use postgres_db::fresh_database;

fn server() -> Option<String> {
    rudder_test_support::env_or_skip(
        "RUDDER_TEST_POSTGRES",
        "scripts/test starts a PostgreSQL server with scripts/postgres",
    )
}

fn release(name: &str, namespace: &str, version: i64, st: &str) -> Release {
    let mut r = Release {
        name: name.into(),
        namespace: namespace.into(),
        version,
        manifest: format!("# {name} v{version}\n"),
        config: serde_json::json!({"revision": version}),
        chart: serde_json::json!({"metadata": {"name": "demo", "version": "1.0.0"}}),
        ..Release::default()
    };
    r.set_status(st, "test");
    r
}

fn versions(mut rs: Vec<Release>) -> Vec<i64> {
    rs.sort_by_key(|r| r.version);
    rs.iter().map(|r| r.version).collect()
}

#[test]
fn create_get_update_query_delete() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "crud");
    let sql = Sql::connect(&conn, "apps").unwrap();
    assert_eq!(sql.name(), "SQL");

    let mut r1 = release("web", "apps", 1, status::DEPLOYED);
    r1.labels = BTreeMap::from([("team".to_string(), "blue".to_string())]);
    sql.create(&make_key("web", 1), &r1).unwrap();
    assert!(matches!(
        sql.create(&make_key("web", 1), &r1),
        Err(Error::Exists)
    ));
    let got = sql.get(&make_key("web", 1)).unwrap();
    assert_eq!(got, r1, "the record and its user labels read back");

    r1.set_status(status::SUPERSEDED, "");
    sql.update(&make_key("web", 1), &r1).unwrap();
    sql.create(
        &make_key("web", 2),
        &release("web", "apps", 2, status::DEPLOYED),
    )
    .unwrap();
    sql.create(
        &make_key("db", 1),
        &release("db", "apps", 1, status::FAILED),
    )
    .unwrap();
    assert_eq!(
        sql.get(&make_key("web", 1)).unwrap().status(),
        status::SUPERSEDED
    );

    let deployed = sql
        .query(&[("name", "web"), ("owner", "helm"), ("status", "deployed")])
        .unwrap();
    assert_eq!(versions(deployed), [2]);
    assert_eq!(
        versions(sql.query(&[("name", "web"), ("version", "1")]).unwrap()),
        [1]
    );
    assert!(matches!(
        sql.query(&[("name", "nope")]),
        Err(Error::NotFound)
    ));
    assert_eq!(
        sql.query(&[("team", "blue")]).unwrap_err().to_string(),
        "unknown label team"
    );
    assert_eq!(sql.list().unwrap().len(), 3);

    let removed = sql.delete(&make_key("web", 1)).unwrap();
    assert_eq!(removed.version, 1);
    assert_eq!(removed.labels["team"], "blue");
    assert!(matches!(sql.get(&make_key("web", 1)), Err(Error::NotFound)));
    assert!(matches!(
        sql.delete(&make_key("web", 1)),
        Err(Error::NotFound)
    ));

    // The labels went with the record.
    let mut client = Client::connect(&conn, NoTls).unwrap();
    let left: i64 = client
        .query_one("SELECT count(*) FROM custom_labels_v1", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[test]
fn rows_hold_helms_columns() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "rows");
    let sql = Sql::connect(&conn, "apps").unwrap();
    let mut r = release("web", "apps", 3, status::PENDING_UPGRADE);
    r.labels = BTreeMap::from([
        ("team".to_string(), "blue".to_string()),
        // A system label among the user's is not stored as a custom label.
        ("owner".to_string(), "someone".to_string()),
    ]);
    sql.create(&make_key("web", 3), &r).unwrap();
    let mut client = Client::connect(&conn, NoTls).unwrap();
    let row = client
        .query_one(
            "SELECT key, type, body, name, namespace, version, status, owner, createdat, modifiedat FROM releases_v1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "sh.helm.release.v1.web.v3");
    assert_eq!(row.get::<_, String>(1), "helm.sh/release.v1");
    let body: String = row.get(2);
    let decoded = rudder_storage::release::decode(&body).unwrap();
    assert_eq!(decoded.manifest, r.manifest);
    // base64 of gzip: the gzip magic number 1f 8b 08 encodes as "H4sI".
    assert!(body.starts_with("H4sI"), "{body}");
    assert_eq!(row.get::<_, String>(3), "web");
    assert_eq!(row.get::<_, String>(4), "apps");
    assert_eq!(row.get::<_, i32>(5), 3);
    assert_eq!(row.get::<_, String>(6), "pending-upgrade");
    assert_eq!(row.get::<_, String>(7), "helm");
    let created: i32 = row.get(8);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i32;
    assert!(
        (now - created).abs() < 300,
        "createdAt {created}, now {now}"
    );
    assert_eq!(row.get::<_, i32>(9), 0, "modifiedAt is 0 until an update");
    let labels: Vec<(String, String, String, String)> = client
        .query(
            "SELECT releasekey, releasenamespace, key, value FROM custom_labels_v1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        labels,
        [(
            "sh.helm.release.v1.web.v3".to_string(),
            "apps".to_string(),
            "team".to_string(),
            "blue".to_string()
        )]
    );

    sql.update(&make_key("web", 3), &r).unwrap();
    let modified: i32 = client
        .query_one("SELECT modifiedat FROM releases_v1", &[])
        .unwrap()
        .get(0);
    assert!(modified >= created);
    // As in Helm, updating a record that does not exist changes nothing.
    sql.update(
        &make_key("web", 9),
        &release("web", "apps", 9, status::FAILED),
    )
    .unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM releases_v1", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}

#[test]
fn namespaces_are_separate() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "ns");
    let a = Sql::connect(&conn, "a").unwrap();
    let b = a.with_namespace("b");
    let all = a.with_namespace("");
    a.create(&make_key("x", 1), &release("x", "a", 1, status::DEPLOYED))
        .unwrap();
    // The same key in another namespace is another record.
    b.create(&make_key("x", 1), &release("x", "b", 1, status::FAILED))
        .unwrap();
    assert_eq!(a.get(&make_key("x", 1)).unwrap().status(), "deployed");
    assert_eq!(b.get(&make_key("x", 1)).unwrap().status(), "failed");
    assert_eq!(a.list().unwrap().len(), 1);
    assert_eq!(all.list().unwrap().len(), 2);
    assert_eq!(all.query(&[("name", "x")]).unwrap().len(), 2);
    // Helm's driver reads single records from its own namespace only: "" holds none.
    assert!(matches!(all.get(&make_key("x", 1)), Err(Error::NotFound)));
    // A record without namespace is stored under "default".
    let d = a.with_namespace("default");
    all.create(&make_key("y", 1), &release("y", "", 1, status::DEPLOYED))
        .unwrap();
    assert_eq!(d.get(&make_key("y", 1)).unwrap().name, "y");
}

#[test]
fn storage_history_and_pruning() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "history");
    let storage = Storage {
        driver: Arc::new(Sql::connect(&conn, "apps").unwrap()),
        max_history: 3,
    };
    storage
        .create(&release("app", "apps", 1, status::DEPLOYED))
        .unwrap();
    for v in 2..=5 {
        storage
            .create(&release("app", "apps", v, status::FAILED))
            .unwrap();
    }
    assert_eq!(versions(storage.history("app").unwrap()), [1, 4, 5]);
    assert_eq!(storage.deployed("app").unwrap().version, 1);
    assert_eq!(storage.last("app").unwrap().version, 5);
    assert!(storage.history("other").unwrap().is_empty());
    assert_eq!(
        storage.deployed("other").unwrap_err().to_string(),
        "\"other\" has no deployed releases"
    );
    let mut r = storage.get("app", 5).unwrap();
    r.set_status(status::SUPERSEDED, "");
    storage.update(&r).unwrap();
    assert_eq!(storage.get("app", 5).unwrap().status(), "superseded");
    assert_eq!(storage.delete("app", 4).unwrap().version, 4);
    assert_eq!(versions(storage.list_all().unwrap()), [1, 5]);
}

#[test]
fn undecodable_bodies_are_skipped_when_listing() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "corrupt");
    let sql = Sql::connect(&conn, "apps").unwrap();
    sql.create(
        &make_key("ok", 1),
        &release("ok", "apps", 1, status::DEPLOYED),
    )
    .unwrap();
    let mut client = Client::connect(&conn, NoTls).unwrap();
    client
        .execute(
            "INSERT INTO releases_v1 (key, type, body, name, namespace, version, status, owner, createdAt) \
             VALUES ('sh.helm.release.v1.bad.v1', 'helm.sh/release.v1', 'not base64!', 'bad', 'apps', 1, 'deployed', 'helm', 0)",
            &[],
        )
        .unwrap();
    assert_eq!(versions(sql.list().unwrap()), [1]);
    assert!(matches!(
        sql.query(&[("name", "bad")]),
        Err(Error::NotFound)
    ));
    assert!(matches!(sql.get(&make_key("bad", 1)), Err(Error::Codec(_))));
}

/// The schema as PostgreSQL describes it: columns, indexes, row-level security, grants to
/// PUBLIC and recorded migrations (without their times).
fn describe_schema(conn: &str) -> Vec<String> {
    let mut client = Client::connect(conn, NoTls).unwrap();
    let mut out = Vec::new();
    for row in client
        .query(
            "SELECT table_name, column_name, data_type, coalesce(character_maximum_length, 0), \
                    is_nullable, coalesce(column_default, '') \
             FROM information_schema.columns WHERE table_schema = 'public' \
             ORDER BY table_name, ordinal_position",
            &[],
        )
        .unwrap()
    {
        out.push(format!(
            "column {}.{} {} {} null={} default={}",
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            row.get::<_, i32>(3),
            row.get::<_, String>(4),
            row.get::<_, String>(5)
        ));
    }
    for row in client
        .query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
            &[],
        )
        .unwrap()
    {
        out.push(format!(
            "index {} {}",
            row.get::<_, String>(0),
            row.get::<_, String>(1)
        ));
    }
    for row in client
        .query(
            "SELECT relname, relrowsecurity FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname",
            &[],
        )
        .unwrap()
    {
        out.push(format!(
            "table {} rls={}",
            row.get::<_, String>(0),
            row.get::<_, bool>(1)
        ));
    }
    for row in client
        .query(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants \
             WHERE grantee = 'PUBLIC' AND table_schema = 'public' ORDER BY 1, 2",
            &[],
        )
        .unwrap()
    {
        out.push(format!(
            "grant {} {} to PUBLIC",
            row.get::<_, String>(0),
            row.get::<_, String>(1)
        ));
    }
    for row in client
        .query(
            r#"SELECT "id", "applied_at" IS NOT NULL FROM "gorp_migrations" ORDER BY "applied_at", "id""#,
            &[],
        )
        .unwrap()
    {
        out.push(format!(
            "migration {} applied={}",
            row.get::<_, String>(0),
            row.get::<_, bool>(1)
        ));
    }
    out
}

/// Runs Helm's SQL driver (helm-python-sdk) on `conn` until it needs the cluster, which is
/// unreachable; returns the error Helm raised (its class and message).
fn helm_touches(conn: &str) -> Option<String> {
    let python = rudder_test_support::env_or_skip("RUDDER_HELM_PYTHON", "scripts/test sets it")?;
    let script = r#"
import helm_python as h
try:
    c = h.Config(namespace="default", storage_driver="sql",
                 kube_apiserver="https://127.0.0.1:1", kube_token="unused")
    c.list(all_states=True)
    print("no error")
except Exception as e:
    print(type(e).__name__, e)
"#;
    let out = Command::new(python)
        .env("HELM_DRIVER_SQL_CONNECTION_STRING", conn)
        .args(["-c", script])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn schema_is_helms_both_ways() {
    let Some(server) = server() else { return };
    // Helm migrates an empty database; rudder accepts it, and writes and reads records there.
    let by_helm = fresh_database(&server, "schema_helm");
    let Some(outcome) = helm_touches(&by_helm) else {
        return;
    };
    assert!(
        outcome.starts_with("HelmKubeError"),
        "Helm got past its SQL setup: {outcome}"
    );
    let helm_schema = describe_schema(&by_helm);
    assert!(
        helm_schema.iter().any(|l| l.starts_with("migration init")),
        "{helm_schema:#?}"
    );
    let sql = Sql::connect(&by_helm, "default").unwrap();
    sql.create(
        &make_key("a", 1),
        &release("a", "default", 1, status::DEPLOYED),
    )
    .unwrap();
    assert_eq!(sql.get(&make_key("a", 1)).unwrap().version, 1);
    assert_eq!(
        describe_schema(&by_helm),
        helm_schema,
        "rudder changed Helm's schema"
    );

    // rudder migrates an empty database: the same schema, and Helm, connecting, finds nothing
    // to do (it would fail creating tables that exist).
    let by_rudder = fresh_database(&server, "schema_rudder");
    Sql::connect(&by_rudder, "default").unwrap();
    let rudder_schema = describe_schema(&by_rudder);
    assert_eq!(rudder_schema, helm_schema);
    let outcome = helm_touches(&by_rudder).unwrap();
    assert!(
        outcome.starts_with("HelmKubeError"),
        "Helm did not accept rudder's schema: {outcome}"
    );
    assert_eq!(describe_schema(&by_rudder), helm_schema);
}

#[test]
fn half_migrated_databases_are_completed() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "half");
    let full = {
        let other = fresh_database(&server, "half_ref");
        Sql::connect(&other, "default").unwrap();
        describe_schema(&other)
    };
    // Only the first of Helm's migrations, as an interrupted migration would leave it.
    Sql::connect(&conn, "default").unwrap();
    let mut client = Client::connect(&conn, NoTls).unwrap();
    client
        .batch_execute(
            r#"DROP TABLE releases_v1; DELETE FROM "gorp_migrations" WHERE "id" = 'init'"#,
        )
        .unwrap();
    Sql::connect(&conn, "default").unwrap();
    assert_eq!(describe_schema(&conn), full);

    // A migration neither Helm nor rudder knows: refused, as sql-migrate does.
    client
        .batch_execute(
            r#"DELETE FROM "gorp_migrations" WHERE "id" = 'init'; INSERT INTO "gorp_migrations" VALUES ('future', now())"#,
        )
        .unwrap();
    let err = Sql::connect(&conn, "default").err().unwrap().to_string();
    assert_eq!(
        err,
        "Unable to create migration plan because of future: unknown migration in database"
    );
    if let Some(outcome) = helm_touches(&conn) {
        assert!(outcome.ends_with(&err), "Helm: {outcome}\nrudder: {err}");
    }
}

#[test]
fn first_connections_at_once_all_get_the_schema() {
    let Some(server) = server() else { return };
    let conn = fresh_database(&server, "racing");
    // Several rudder processes starting together against a new database: each finds the
    // tables missing and creates them; none may fail on another's half-made table.
    let start = Arc::new(std::sync::Barrier::new(6));
    let connecting: Vec<_> = (0..6)
        .map(|_| {
            let (conn, start) = (conn.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                Sql::connect(&conn, "default").map(|_| ())
            })
        })
        .collect();
    for thread in connecting {
        thread.join().unwrap().unwrap();
    }
    let reference = fresh_database(&server, "racing_ref");
    Sql::connect(&reference, "default").unwrap();
    assert_eq!(describe_schema(&conn), describe_schema(&reference));
}
