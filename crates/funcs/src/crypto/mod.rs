//! Sprig's key and certificate functions (`genPrivateKey`, `genCA`, `genCAWithKey`,
//! `genSelfSignedCert(WithKey)`, `genSignedCert(WithKey)`, `buildCustomCert`) and its other
//! cryptographic functions (`derivePassword`, `bcrypt`, `htpasswd`, `encryptAES`,
//! `decryptAES`).
//!
//! Keys and certificates are random, so only their structure can match Helm's: keys are
//! written as Sprig writes them (`keys`), certificates as Go's `x509.CreateCertificate`
//! encodes Sprig's template (`x509`), so that the DER structure, lengths and PEM line counts
//! match Helm's for the same inputs; only the key, serial, signature and times differ.

mod bcrypt;
mod blowfish_pi;
mod der;
mod error;
mod keys;
mod pool;
mod primes;
mod x509;

use std::any::Any as StdAny;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use rudder_gotmpl::FuncMap;
#[allow(unused_imports)]
use rudder_gotmpl::ParamType::{Any, Bool, Float64, Int, Map as MapT, String as Str};
use rudder_value::{Kind, Map, Object, Value};

use crate::add;
use error::CryptoError;
use keys::{PrivateKey, RsaBits};

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

fn list(v: &Value) -> Vec<Value> {
    v.to_list().map(|l| l.into_owned()).unwrap_or_default()
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Arc::new(Certificate { cert, key }))
}

/// Sprig's `getNetIPs`.
fn net_ips(ips: &Value) -> Result<Vec<IpAddr>, CryptoError> {
    list(ips)
        .iter()
        .map(|ip| match ip {
            Value::String(text) => text
                .parse()
                .map_err(|_| CryptoError::InvalidIp(text.to_string())),
            other => Err(CryptoError::IpNotString {
                value: other.to_go_string(),
            }),
        })
        .collect()
}

/// Sprig's `getAlternateDNSStrs`.
fn dns_names(names: &Value) -> Result<Vec<String>, CryptoError> {
    list(names)
        .iter()
        .map(|name| match name {
            Value::String(text) => Ok(text.to_string()),
            other => Err(CryptoError::DnsNameNotString {
                value: other.to_go_string(),
            }),
        })
        .collect()
}

/// A certificate function's key: parsed from the PEM given, else a new 2048-bit RSA key.
fn subject_key(pem: Option<&str>) -> Result<PrivateKey, CryptoError> {
    match pem {
        Some(text) => PrivateKey::from_pem(text).map_err(|e| e.within(CryptoError::SubjectKey)),
        None => {
            PrivateKey::generate_rsa(RsaBits::B2048).map_err(|e| e.within(CryptoError::GenerateRsa))
        }
    }
}

/// Sprig's `getCertAndKey`: the certificate and the key in PEM.
fn cert_and_key(
    template: &x509::Template,
    key: &PrivateKey,
    signer: Option<(&x509::Parent, &PrivateKey)>,
) -> Result<Value, CryptoError> {
    let der = match signer {
        None => x509::create_certificate(template, key, key, None),
        Some((parent, signing_key)) => {
            x509::create_certificate(template, key, signing_key, Some(parent))
        }
    }
    .map_err(|e| e.within(CryptoError::CreateCertificate))?;
    Ok(cert_value(
        keys::pem_encode("CERTIFICATE", &der),
        key.to_pem(),
    ))
}

fn gen_ca(cn: &str, days: i64, key_pem: Option<&str>) -> Result<Value, CryptoError> {
    let key = subject_key(key_pem)?;
    let template = x509::Template::new(cn, Vec::new(), Vec::new(), days, true);
    cert_and_key(&template, &key, None)
}

fn gen_self_signed(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
    key_pem: Option<&str>,
) -> Result<Value, CryptoError> {
    let key = subject_key(key_pem)?;
    let template = x509::Template::new(cn, net_ips(ips)?, dns_names(dns)?, days, false);
    cert_and_key(&template, &key, None)
}

/// The signing CA of `genSignedCert`: its parsed certificate and key.
fn signer_of(ca: &Value) -> Result<(x509::Parent, PrivateKey), CryptoError> {
    let ca = match ca {
        Value::Object(o) => o.as_any().downcast_ref::<Certificate>(),
        _ => None,
    }
    .ok_or(CryptoError::NotACertificate)?;
    let (_, cert_der) = keys::pem_decode(&ca.cert).ok_or(CryptoError::UndecodableCertificate)?;
    let parent =
        x509::parse_parent(&cert_der).map_err(|e| e.within(CryptoError::SignerCertificate))?;
    let key = PrivateKey::from_pem(&ca.key).map_err(|e| e.within(CryptoError::PrivateKey))?;
    Ok((parent, key))
}

fn gen_signed(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
    ca: &Value,
    key_pem: Option<&str>,
) -> Result<Value, CryptoError> {
    let key = subject_key(key_pem)?;
    let (parent, signing_key) = signer_of(ca)?;
    let template = x509::Template::new(cn, net_ips(ips)?, dns_names(dns)?, days, false);
    cert_and_key(&template, &key, Some((&parent, &signing_key)))
}

/// Sprig's `generatePrivateKey`: the PEM, or an error text in its place.
fn generate_private_key(kind: &str) -> String {
    let key = match kind {
        "" | "rsa" => PrivateKey::generate_rsa(RsaBits::B4096),
        "ecdsa" => Ok(PrivateKey::generate_ecdsa()),
        "ed25519" => Ok(PrivateKey::generate_ed25519()),
        "dsa" => PrivateKey::generate_dsa(),
        other => return format!("Unknown type {other}"),
    };
    match key {
        Ok(k) => k.to_pem(),
        Err(e) => format!("failed to generate private key: {e}"),
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    add(m, "genPrivateKey", &[Str], None, |a| {
        Ok(Value::from(generate_private_key(s(&a[0]))))
    });
    add(m, "genCA", &[Str, Int], None, |a| {
        Ok(gen_ca(s(&a[0]), crate::to_int64(&a[1]), None)?)
    });
    add(m, "genCAWithKey", &[Str, Int, Str], None, |a| {
        Ok(gen_ca(s(&a[0]), crate::to_int64(&a[1]), Some(s(&a[2])))?)
    });
    add(m, "genSelfSignedCert", &[Str, Any, Any, Int], None, |a| {
        Ok(gen_self_signed(
            s(&a[0]),
            &a[1],
            &a[2],
            crate::to_int64(&a[3]),
            None,
        )?)
    });
    add(
        m,
        "genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        None,
        |a| {
            Ok(gen_self_signed(
                s(&a[0]),
                &a[1],
                &a[2],
                crate::to_int64(&a[3]),
                Some(s(&a[4])),
            )?)
        },
    );
    add(m, "genSignedCert", &[Str, Any, Any, Int, Any], None, |a| {
        Ok(gen_signed(
            s(&a[0]),
            &a[1],
            &a[2],
            crate::to_int64(&a[3]),
            &a[4],
            None,
        )?)
    });
    add(
        m,
        "genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        None,
        |a| {
            Ok(gen_signed(
                s(&a[0]),
                &a[1],
                &a[2],
                crate::to_int64(&a[3]),
                &a[4],
                Some(s(&a[5])),
            )?)
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
        let key_text = String::from_utf8_lossy(&key).into_owned();
        let (_, der) = keys::pem_decode(&cert_text).ok_or(CryptoError::UndecodableCertificate)?;
        x509::check_certificate(&der).map_err(|e| e.within(CryptoError::CustomCertificate))?;
        PrivateKey::from_pem(&key_text).map_err(|e| e.within(CryptoError::PrivateKey))?;
        Ok(cert_value(cert_text, key_text))
    });
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
    match bcrypt::hash(input.as_bytes()) {
        Ok(hash) => hash,
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
