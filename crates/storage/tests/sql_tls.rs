//! The SQL driver over TLS, against a real PostgreSQL that accepts TLS connections only
//! (`scripts/postgres start-tls`, started by scripts/test, which sets
//! RUDDER_TEST_POSTGRES_TLS to `postgres://...?sslmode=verify-full&sslrootcert=<CA file>`).
//! The server's certificate is issued for the IP address 127.0.0.1 only, by a throwaway CA;
//! the role `certuser` must log in with the client certificate made next to the CA file.
//!
//! Each setting is tried as Helm v4.2.3 reads it: Helm passes the connection string to
//! lib/pq v1.12.3 (sqlx.Connect in pkg/storage/driver/sql.go), whose ssl.go defines the
//! modes: `require` (the default when no sslmode is given) and `prefer` encrypt without
//! authenticating the server, or check the chain when `sslrootcert` is given; `verify-ca`
//! checks the chain; `verify-full` the chain and the host name; `sslcert`/`sslkey` give a
//! client certificate; `disable` never uses TLS.

use rudder_storage::{make_key, status, Driver, Release, Sql};

fn server() -> Option<String> {
    match std::env::var("RUDDER_TEST_POSTGRES_TLS") {
        Ok(s) if !s.is_empty() => Some(s),
        _ => {
            eprintln!("SKIPPED: RUDDER_TEST_POSTGRES_TLS is not set (scripts/test starts it with scripts/postgres start-tls)");
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run this test against a real PostgreSQL with TLS"
            );
            None
        }
    }
}

/// `(address part before '?', the CA file)` of the test server's connection string.
fn parts(server: &str) -> (String, String) {
    let (base, query) = server.split_once('?').expect("a query");
    let ca = query
        .split('&')
        .find_map(|p| p.strip_prefix("sslrootcert="))
        .expect("sslrootcert");
    (base.to_string(), ca.to_string())
}

/// Makes a CA that signed nothing the server has, in a fresh folder; returns its file.
fn other_ca(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let ca = dir.join("other-ca.crt");
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(&ca)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    ca
}

/// Connects, stores a release in a namespace of its own and reads it back.
fn round_trip(connection: &str, namespace: &str) -> Result<(), String> {
    let sql = Sql::connect(connection, namespace).map_err(|e| e.to_string())?;
    let mut release = Release {
        name: "tls".into(),
        namespace: namespace.into(),
        version: 1,
        manifest: "# over TLS\n".into(),
        ..Release::default()
    };
    release.set_status(status::DEPLOYED, "");
    let key = make_key("tls", 1);
    let _ = sql.delete(&key);
    sql.create(&key, &release).map_err(|e| e.to_string())?;
    let got = sql.get(&key).map_err(|e| e.to_string())?;
    assert_eq!(got.manifest, release.manifest);
    sql.delete(&key).map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn verify_full_with_the_right_ca_stores_and_reads_a_release() {
    let Some(server) = server() else { return };
    // The server refuses connections in the clear, so this went over TLS, and the
    // certificate was checked against the CA and for the name 127.0.0.1.
    round_trip(&server, "tls-verify-full").unwrap();
}

#[test]
fn verify_full_with_another_ca_is_refused_and_says_why() {
    let Some(server) = server() else { return };
    let (base, _) = parts(&server);
    let dir = std::env::temp_dir().join(format!("rudder-sql-tls-ca-{}", std::process::id()));
    let other = other_ca(&dir);
    // lib/pq checks the chain against sslrootcert in require (when the file exists),
    // verify-ca and verify-full alike.
    for mode in ["verify-full", "verify-ca", "require"] {
        let e = round_trip(
            &format!("{base}?sslmode={mode}&sslrootcert={}", other.display()),
            "tls-other-ca",
        )
        .unwrap_err();
        assert_eq!(
            e,
            format!(
                "could not connect to PostgreSQL (sslmode={mode}, sslrootcert={}): error performing TLS handshake: invalid peer certificate: UnknownIssuer (the server's certificate is not signed by a trusted certificate authority (sslrootcert))",
                other.display()
            )
        );
    }
    // A CA file that is not there is reported as such (lib/pq: the open error; in require
    // mode lib/pq would go on unverified, rudder refuses).
    for mode in ["verify-full", "require"] {
        let missing = dir.join("nope.crt");
        let e = round_trip(
            &format!("{base}?sslmode={mode}&sslrootcert={}", missing.display()),
            "tls-missing-ca",
        )
        .unwrap_err();
        assert!(
            e.starts_with(&format!(
                "could not read root certificate file {}: ",
                missing.display()
            )),
            "{e}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn require_and_prefer_encrypt_without_a_ca() {
    let Some(server) = server() else { return };
    let (base, ca) = parts(&server);
    for (i, query) in [
        String::new(), // lib/pq's default: require
        "?sslmode=require".to_string(),
        "?sslmode=prefer".to_string(),
        "?sslmode=allow".to_string(),
        format!("?sslmode=require&sslrootcert={ca}"),
        format!("?sslmode=verify-ca&sslrootcert={ca}"),
    ]
    .iter()
    .enumerate()
    {
        round_trip(&format!("{base}{query}"), &format!("tls-{i}"))
            .unwrap_or_else(|e| panic!("{query}: {e}"));
    }
    // libpq's key=value form too.
    let port = base.rsplit(':').next().unwrap().split('/').next().unwrap();
    round_trip(
        &format!("host=127.0.0.1 port={port} user=rudder dbname=postgres sslmode=verify-full sslrootcert='{ca}'"),
        "tls-kv",
    )
    .unwrap();
}

#[test]
fn disable_against_a_server_that_requires_tls_fails_clearly() {
    let Some(server) = server() else { return };
    let (base, _) = parts(&server);
    let e = round_trip(&format!("{base}?sslmode=disable"), "tls-disable").unwrap_err();
    assert!(
        e.starts_with("could not connect to PostgreSQL (sslmode=disable): db error: FATAL: no pg_hba.conf entry for host \"127.0.0.1\", user \"rudder\", database \"postgres\", no encryption"),
        "{e}"
    );
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let Some(server) = server() else { return };
    let (base, ca) = parts(&server);
    // The certificate names 127.0.0.1, not localhost.
    let by_name = base.replace("127.0.0.1", "localhost");
    round_trip(
        &format!("{by_name}?sslmode=verify-ca&sslrootcert={ca}"),
        "tls-ca-by-name",
    )
    .unwrap();
    let e = round_trip(
        &format!("{by_name}?sslmode=verify-full&sslrootcert={ca}"),
        "tls-full-by-name",
    )
    .unwrap_err();
    assert!(
        e.contains("certificate not valid for name \"localhost\"")
            && e.ends_with("(the server's certificate was not issued for the host connected to (sslmode=verify-full checks it))"),
        "{e}"
    );
}

#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(server) = server() else { return };
    let (base, ca) = parts(&server);
    let dir = std::path::Path::new(&ca).parent().unwrap();
    let as_certuser = base.replace("rudder@", "certuser@");
    let (cert, key) = (dir.join("client.crt"), dir.join("client.key"));
    round_trip(
        &format!(
            "{as_certuser}?sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
            cert.display(),
            key.display()
        ),
        "tls-client-cert",
    )
    .unwrap();
    // Without it, PostgreSQL's `cert` authentication refuses the role.
    let e = round_trip(
        &format!("{as_certuser}?sslmode=verify-full&sslrootcert={ca}"),
        "tls-no-client-cert",
    )
    .unwrap_err();
    assert!(
        e.contains("connection requires a valid client certificate"),
        "{e}"
    );
}
