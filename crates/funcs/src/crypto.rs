//! Sprig's key and certificate functions: `genPrivateKey`, `genCA`, `genCAWithKey`,
//! `genSelfSignedCert(WithKey)`, `genSignedCert(WithKey)`, `buildCustomCert`. Keys and
//! certificates are random, so only their shape matches Sprig's: RSA keys (4096 bits for
//! `genPrivateKey "rsa"`, 2048 for certificates) in PKCS#1 PEM, ECDSA P-256 in SEC1 PEM,
//! Ed25519 in PKCS#8 PEM; certificates with Sprig's key usages, a random 128-bit serial and
//! `daysValid` of validity. DSA keys are not supported.

use std::any::Any as StdAny;
use std::sync::Arc;

use base64::Engine as _;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{Kind, Map, Object, Value};

use crate::add;

/// Sprig's `certificate` struct: `.Cert` and `.Key` in PEM.
#[derive(Debug)]
struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn kind(&self) -> Kind {
        Kind::Struct
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn fmt_v(&self, out: &mut String) {
        out.push('{');
        out.push_str(&self.cert);
        out.push(' ');
        out.push_str(&self.key);
        out.push('}');
    }
    fn to_data(&self) -> Option<Value> {
        let mut m = Map::new();
        m.insert("Cert".into(), Value::str(&self.cert));
        m.insert("Key".into(), Value::str(&self.key));
        Some(Value::map(m))
    }
    fn as_any(&self) -> &dyn StdAny {
        self
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn rsa_key(bits: usize) -> Result<rsa::RsaPrivateKey, String> {
    rsa::RsaPrivateKey::new(&mut rand::thread_rng(), bits)
        .map_err(|e| format!("error generating RSA key: {e}"))
}

fn rsa_pkcs1_pem(key: &rsa::RsaPrivateKey) -> Result<String, String> {
    key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| e.to_string())
}

/// Go's `pem.Decode`: the type and bytes of the first PEM block in the text.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let type_end = rest.find("-----")?;
    let typ = &rest[..type_end];
    let body = &rest[type_end + 5..];
    let end = body.find(&format!("-----END {typ}-----"))?;
    let b64: String = body[..end]
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((typ.to_string(), der))
}

/// A signing key for rcgen plus its PEM as Sprig writes it back, from Sprig's
/// `parsePrivateKeyPEM` (PKCS#8, PKCS#1 RSA or SEC1 EC); the error is its text.
fn key_from_pem(pem: &str) -> Result<(rcgen::KeyPair, String), String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let (typ, der) = pem_decode(pem).ok_or("no PEM data in input")?;
    if typ == "PRIVATE KEY" {
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(&der) {
            return rsa_keypair(&k);
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(&der) {
            return ec_keypair(&k);
        }
        return match ed25519_dalek::pkcs8::DecodePrivateKey::from_pkcs8_der(&der) {
            Ok(k) => ed25519_keypair(&k),
            Err(e) => Err(format!("decoding PEM as PKCS#8: {e}")),
        };
    }
    let Some(kind) = typ.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {typ}"));
    };
    match kind {
        "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(&der)
            .map_err(|e| format!("parsing RSA private key from PEM: {e}"))
            .and_then(|k| rsa_keypair(&k)),
        "EC" => p256::SecretKey::from_sec1_der(&der)
            .map_err(|e| format!("parsing EC private key from PEM: {e}"))
            .and_then(|k| ec_keypair(&k)),
        "DSA" => Err("DSA keys are not supported by rudder".into()),
        _ => Err(format!("invalid private key type {typ}")),
    }
}

fn ec_keypair(key: &p256::SecretKey) -> Result<(rcgen::KeyPair, String), String> {
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let pkcs8 = rustls_pki_types_der(der.as_bytes());
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| e.to_string())?;
    let sec1 = key.to_sec1_der().map_err(|e| e.to_string())?;
    Ok((pair, sec1_pem(&sec1)?))
}

fn ed25519_keypair(key: &ed25519_dalek::SigningKey) -> Result<(rcgen::KeyPair, String), String> {
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let pkcs8 = rustls_pki_types_der(der.as_bytes());
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
        .map_err(|e| e.to_string())?;
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| e.to_string())?;
    Ok((pair, pem.to_string()))
}

fn rsa_keypair(key: &rsa::RsaPrivateKey) -> Result<(rcgen::KeyPair, String), String> {
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let pkcs8 = rustls_pki_types_der(der.as_bytes());
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| e.to_string())?;
    Ok((pair, rsa_pkcs1_pem(key)?))
}

fn rustls_pki_types_der(bytes: &[u8]) -> rustls_pki_types::PrivatePkcs8KeyDer<'static> {
    rustls_pki_types::PrivatePkcs8KeyDer::from(bytes.to_vec())
}

fn params(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
    ca: bool,
) -> Result<rcgen::CertificateParams, String> {
    let mut names = Vec::new();
    for d in dns {
        match d {
            Value::String(x) => names.push(x.to_string()),
            other => {
                return Err(format!(
                    "error processing alternate dns name: {} is not a string",
                    other.to_go_string()
                ))
            }
        }
    }
    let mut p = rcgen::CertificateParams::new(names).map_err(|e| e.to_string())?;
    for ip in ips {
        let text = match ip {
            Value::String(x) => x.to_string(),
            other => {
                return Err(format!(
                    "error parsing ip: {} is not a string",
                    other.to_go_string()
                ))
            }
        };
        let addr: std::net::IpAddr = text
            .parse()
            .map_err(|_| format!("error parsing ip: {text}"))?;
        p.subject_alt_names.push(rcgen::SanType::IpAddress(addr));
    }
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    p.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now;
    p.not_after = now + time::Duration::days(days);
    let mut serial = [0u8; 16];
    rand::Rng::fill(&mut rand::thread_rng(), &mut serial);
    serial[0] &= 0x7f;
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    if ca {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
    } else {
        p.is_ca = rcgen::IsCa::ExplicitNoCa;
        p.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
    }
    Ok(p)
}

fn list(v: &Value) -> Vec<Value> {
    v.to_list().map(|l| l.into_owned()).unwrap_or_default()
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Arc::new(Certificate { cert, key }))
}

fn ca_from(v: &Value) -> Result<(rcgen::Certificate, rcgen::KeyPair), String> {
    let Value::Object(o) = v else {
        return Err("wrong type for value; expected sprig.certificate".into());
    };
    let c = o
        .as_any()
        .downcast_ref::<Certificate>()
        .ok_or("wrong type for value; expected sprig.certificate")?;
    let (key, _) = key_from_pem(&c.key).map_err(|e| format!("error parsing private key: {e}"))?;
    let params = rcgen::CertificateParams::from_ca_cert_pem(&c.cert)
        .map_err(|e| format!("error parsing CA certificate: {e}"))?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((cert, key))
}

fn gen_ca(cn: &str, days: i64, key: Option<&str>) -> Result<Value, String> {
    let (pair, key_pem) = match key {
        Some(k) => key_from_pem(k).map_err(|e| format!("parsing private key: {e}"))?,
        None => rsa_keypair(&rsa_key(2048)?)?,
    };
    let cert = params(cn, &[], &[], days, true)?
        .self_signed(&pair)
        .map_err(|e| e.to_string())?;
    Ok(cert_value(cert.pem(), key_pem))
}

fn gen_cert(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
    ca: Option<&Value>,
    key: Option<&str>,
) -> Result<Value, String> {
    let (pair, key_pem) = match key {
        Some(k) => key_from_pem(k).map_err(|e| format!("parsing private key: {e}"))?,
        None => rsa_keypair(&rsa_key(2048)?)?,
    };
    let p = params(cn, &list(ips), &list(dns), days, false)?;
    let cert = match ca {
        None => p.self_signed(&pair),
        Some(ca) => {
            let (ca_cert, ca_key) = ca_from(ca)?;
            p.signed_by(&pair, &ca_cert, &ca_key)
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(cert_value(cert.pem(), key_pem))
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "genPrivateKey", &[Str], None, |a| {
        let out = match s(&a[0]) {
            "rsa" => rsa_key(4096).and_then(|k| rsa_pkcs1_pem(&k)),
            "ecdsa" => {
                let key = p256::SecretKey::random(&mut rand::thread_rng());
                key.to_sec1_der()
                    .map_err(|e| e.to_string())
                    .and_then(|der| sec1_pem(&der))
            }
            "ed25519" => {
                let key = ed25519_dalek::SigningKey::generate(&mut rand::thread_rng());
                ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_pem(
                    &key,
                    ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF,
                )
                .map(|p| p.to_string())
                .map_err(|e| e.to_string())
            }
            "dsa" => Err("DSA keys are not supported by rudder".into()),
            other => return Ok(Value::from(format!("Unknown type {other}"))),
        };
        Ok(Value::from(out.unwrap_or_else(|e| {
            format!("failed to generate private key: {e}")
        })))
    });
    add(m, "genCA", &[Str, Int], None, |a| {
        gen_ca(s(&a[0]), crate::to_int64(&a[1]), None)
    });
    add(m, "genCAWithKey", &[Str, Int, Str], None, |a| {
        gen_ca(s(&a[0]), crate::to_int64(&a[1]), Some(s(&a[2])))
    });
    add(m, "genSelfSignedCert", &[Str, Any, Any, Int], None, |a| {
        gen_cert(s(&a[0]), &a[1], &a[2], crate::to_int64(&a[3]), None, None)
    });
    add(
        m,
        "genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        None,
        |a| {
            gen_cert(
                s(&a[0]),
                &a[1],
                &a[2],
                crate::to_int64(&a[3]),
                None,
                Some(s(&a[4])),
            )
        },
    );
    add(m, "genSignedCert", &[Str, Any, Any, Int, Any], None, |a| {
        gen_cert(
            s(&a[0]),
            &a[1],
            &a[2],
            crate::to_int64(&a[3]),
            Some(&a[4]),
            None,
        )
    });
    add(
        m,
        "genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        None,
        |a| {
            gen_cert(
                s(&a[0]),
                &a[1],
                &a[2],
                crate::to_int64(&a[3]),
                Some(&a[4]),
                Some(s(&a[5])),
            )
        },
    );
    add(m, "buildCustomCert", &[Str, Str], None, |a| {
        let engine = base64::engine::general_purpose::STANDARD;
        let cert = engine
            .decode(s(&a[0]))
            .map_err(|_| "unable to decode base64 certificate".to_string())?;
        let key = engine
            .decode(s(&a[1]))
            .map_err(|_| "unable to decode base64 private key".to_string())?;
        let cert_text = String::from_utf8_lossy(&cert).into_owned();
        match pem_decode(&cert_text) {
            None => return Err("unable to decode certificate".into()),
            Some((_, der)) => {
                rcgen::CertificateParams::from_ca_cert_der(&der.into())
                    .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
            }
        }
        key_from_pem(&String::from_utf8_lossy(&key))
            .map_err(|e| format!("error parsing private key: {e}"))?;
        Ok(cert_value(
            String::from_utf8_lossy(&cert).into_owned(),
            String::from_utf8_lossy(&key).into_owned(),
        ))
    });
}

/// SEC1 DER as the PEM Go's `pem.Encode` writes for an EC key.
fn sec1_pem(der: &[u8]) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN EC PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).map_err(|e| e.to_string())?);
        out.push('\n');
    }
    out.push_str("-----END EC PRIVATE KEY-----\n");
    Ok(out)
}

const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

/// The Master Password algorithm's templates (the data Sprig uses).
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's `derivePassword`: deterministic, so it matches Helm exactly.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    use hmac::Mac;
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return "failed to derive password".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let template = templates[seed[0] as usize % templates.len()].as_bytes();
    template
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_characters(*c);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

fn bcrypt_hash(input: &str) -> String {
    // Go's bcrypt writes the $2a$ variant at cost 10.
    match bcrypt::hash_with_result(input, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    key
}

pub(crate) fn register_more(m: &mut FuncMap) {
    add(m, "derivePassword", &[Int, Str, Str, Str, Str], None, |a| {
        Ok(Value::from(derive_password(
            crate::to_int64(&a[0]) as u32,
            s(&a[1]),
            s(&a[2]),
            s(&a[3]),
            s(&a[4]),
        )))
    });
    add(m, "bcrypt", &[Str], None, |a| {
        Ok(Value::from(bcrypt_hash(s(&a[0]))))
    });
    add(m, "htpasswd", &[Str, Str], None, |a| {
        let user = s(&a[0]);
        if user.contains(':') {
            return Ok(Value::from(format!("invalid username: {user}")));
        }
        Ok(Value::from(format!("{user}:{}", bcrypt_hash(s(&a[1])))))
    });
    add(m, "encryptAES", &[Str, Str], None, |a| {
        use aes::cipher::{BlockEncryptMut, KeyIvInit};
        let plain = s(&a[1]);
        if plain.is_empty() {
            return Ok(Value::str(""));
        }
        let mut iv = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut iv);
        let enc = cbc::Encryptor::<aes::Aes256>::new(&aes_key(s(&a[0])).into(), &iv.into());
        let body =
            enc.encrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(plain.as_bytes());
        let mut out = iv.to_vec();
        out.extend_from_slice(&body);
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(out),
        ))
    });
    add(m, "decryptAES", &[Str, Str], None, |a| {
        use aes::cipher::{BlockDecryptMut, KeyIvInit};
        let text = s(&a[1]);
        if text.is_empty() {
            return Ok(Value::str(""));
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("illegal base64 data: {e}"))?;
        if data.len() < 16 || data.len() % 16 != 0 {
            return Err("ciphertext too short".into());
        }
        let (iv, body) = data.split_at(16);
        let mut dec = cbc::Decryptor::<aes::Aes256>::new(&aes_key(s(&a[0])).into(), iv.into());
        let mut buf = body.to_vec();
        // Sprig strips as many bytes as the last byte says, without checking the padding.
        for block in buf.chunks_exact_mut(16) {
            dec.decrypt_block_mut(aes::Block::from_mut_slice(block));
        }
        let pad = buf.last().copied().unwrap_or(0) as usize;
        buf.truncate(buf.len().saturating_sub(pad));
        Ok(Value::from(String::from_utf8_lossy(&buf).into_owned()))
    });
}
