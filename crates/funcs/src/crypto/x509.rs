//! The certificates Sprig's functions make, encoded as Go's `x509.CreateCertificate` encodes
//! Sprig's template (`getBaseCertTemplate`): version 3, a random positive 128-bit serial, the
//! signer's signature algorithm, the common name as a PrintableString when Go's character
//! set allows (else UTF8String) or an empty name for an empty common name, UTCTime for years
//! 1950-2049 and GeneralizedTime otherwise, then the extensions in Go's order: key usage
//! (critical, minimal BIT STRING), extended key usage (server and client auth), basic
//! constraints (critical), subject key identifier (CAs only: SHA-256 of the public key cut
//! to 20 bytes, Go 1.25+), authority key identifier (when the issuer differs from the
//! subject and the parent has a subject key identifier), alternative names (DNS names then
//! IP addresses; critical when the subject is empty).

use std::net::IpAddr;

use sha2::Digest;

use super::der;
use super::error::CryptoError;
use super::keys::PrivateKey;

const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const OID_AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const OID_SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
const OID_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
const OID_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

/// Go's `x509.KeyUsage` bits that Sprig sets.
const KEY_USAGE_DIGITAL_SIGNATURE: u8 = 1 << 0;
const KEY_USAGE_KEY_ENCIPHERMENT: u8 = 1 << 2;
const KEY_USAGE_CERT_SIGN: u8 = 1 << 5;

const NANOS_PER_DAY: i64 = 24 * 3600 * 1_000_000_000;

/// Sprig's certificate template.
pub(crate) struct Template {
    pub common_name: String,
    pub ip_addresses: Vec<IpAddr>,
    pub dns_names: Vec<String>,
    /// Nanoseconds since the Unix epoch.
    pub not_before: i128,
    pub not_after: i128,
    /// DER INTEGER.
    pub serial: Vec<u8>,
    pub is_ca: bool,
}

impl Template {
    /// `getBaseCertTemplate`'s fields that are not names: a serial drawn uniformly below
    /// 2^128 and a validity from now for `days_valid` days, the duration computed as Go's
    /// `time.Hour * 24 * time.Duration(daysValid)` (int64 nanoseconds, wrapping on overflow).
    pub(crate) fn new(
        common_name: &str,
        ip_addresses: Vec<IpAddr>,
        dns_names: Vec<String>,
        days_valid: i64,
        is_ca: bool,
    ) -> Self {
        let mut serial = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut serial);
        let now = now_nanos();
        Template {
            common_name: common_name.to_string(),
            ip_addresses,
            dns_names,
            not_before: now,
            not_after: now + i128::from(days_valid.wrapping_mul(NANOS_PER_DAY)),
            serial: der::unsigned_integer(&serial),
            is_ca,
        }
    }
}

fn now_nanos() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// What `CreateCertificate` reads from a parsed parent certificate.
pub(crate) struct Parent {
    /// The subject exactly as encoded in the parent (Go's `RawSubject`).
    pub raw_subject: Vec<u8>,
    pub subject_key_id: Option<Vec<u8>>,
    /// The parent's subjectPublicKey bits.
    pub public_key: Vec<u8>,
}

/// Go's `pkix.Name{CommonName: cn}` as an RDNSequence: empty when the name is.
fn name(common_name: &str) -> Vec<u8> {
    if common_name.is_empty() {
        return der::seq(&[]);
    }
    let string_tag = if common_name.bytes().all(is_printable) {
        der::PRINTABLE_STRING
    } else {
        der::UTF8_STRING
    };
    let attribute = der::seq(&[
        &der::oid(OID_COMMON_NAME),
        &der::tlv(string_tag, common_name.as_bytes()),
    ]);
    der::seq(&[&der::cons(der::SET, &[&attribute])])
}

/// Go's `asn1` PrintableString set for untagged strings (no `*`, no `&`).
fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?')
}

/// Go's `asn1` time: UTCTime for 1950 <= year < 2050, GeneralizedTime otherwise.
fn time(nanos: i128) -> Result<Vec<u8>, CryptoError> {
    let seconds = nanos.div_euclid(1_000_000_000);
    let t = i64::try_from(seconds)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .ok_or(CryptoError::TimeOutOfRange)?;
    use chrono::Datelike;
    let year = t.year();
    if (1950..2050).contains(&year) {
        Ok(der::tlv(
            der::UTC_TIME,
            t.format("%y%m%d%H%M%SZ").to_string().as_bytes(),
        ))
    } else if (0..=9999).contains(&year) {
        Ok(der::tlv(
            der::GENERALIZED_TIME,
            t.format("%Y%m%d%H%M%SZ").to_string().as_bytes(),
        ))
    } else {
        Err(CryptoError::TimeOutOfRange)
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let id = der::oid(id);
    let value = der::tlv(der::OCTET_STRING, value);
    if critical {
        der::seq(&[&id, &der::tlv(der::BOOLEAN, &[0xff]), &value])
    } else {
        der::seq(&[&id, &value])
    }
}

/// Go's `marshalKeyUsage` for usages within the first byte: the bits reversed into ASN.1
/// order, and the BIT STRING cut after the last set bit.
fn key_usage(usage: u8) -> Vec<u8> {
    let bits = usage.reverse_bits();
    let unused = if bits == 0 {
        0
    } else {
        bits.trailing_zeros() as u8
    };
    der::tlv(der::BIT_STRING, &[unused, bits])
}

fn subject_alt_names(dns_names: &[String], ips: &[IpAddr]) -> Result<Vec<u8>, CryptoError> {
    let mut names = Vec::new();
    for dns in dns_names {
        if !dns.is_ascii() {
            return Err(CryptoError::NotIa5 {
                quoted: rudder_value::gofmt::quote(dns),
            });
        }
        names.extend(der::tlv(0x82, dns.as_bytes()));
    }
    for ip in ips {
        // IPv4 (and IPv4-mapped IPv6) in 4 bytes, as Go's `ip.To4()`.
        let bytes = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets().to_vec(),
            },
        };
        names.extend(der::tlv(0x87, &bytes));
    }
    Ok(der::tlv(der::SEQUENCE, &names))
}

/// `x509.CreateCertificate(rand, template, parent, subjectKey.Public(), signer)` as DER;
/// `parent` is None for a self-signed certificate (Sprig passes the template as parent).
pub(crate) fn create_certificate(
    template: &Template,
    subject_key: &PrivateKey,
    signer: &PrivateKey,
    parent: Option<&Parent>,
) -> Result<Vec<u8>, CryptoError> {
    if matches!(signer, PrivateKey::Dsa(_)) {
        return Err(CryptoError::NotASigner);
    }
    let signature_algorithm = signer.signature_algorithm()?;
    let (key_algorithm, public_key) = subject_key.public_key_info()?;
    let subject = name(&template.common_name);
    let issuer = match parent {
        Some(p) => p.raw_subject.clone(),
        None => subject.clone(),
    };
    let authority_key_id = match parent {
        Some(p) if issuer != subject => p.subject_key_id.clone().filter(|id| !id.is_empty()),
        _ => None,
    };
    let subject_key_id = template
        .is_ca
        .then(|| sha2::Sha256::digest(&public_key)[..20].to_vec());
    if let Some(p) = parent {
        let (_, signer_public_key) = signer.public_key_info()?;
        if signer_public_key != p.public_key {
            return Err(CryptoError::KeyMismatch);
        }
    }

    let mut usage = KEY_USAGE_KEY_ENCIPHERMENT | KEY_USAGE_DIGITAL_SIGNATURE;
    if template.is_ca {
        usage |= KEY_USAGE_CERT_SIGN;
    }
    let mut extensions = vec![
        extension(OID_KEY_USAGE, true, &key_usage(usage)),
        extension(
            OID_EXT_KEY_USAGE,
            false,
            &der::seq(&[&der::oid(OID_SERVER_AUTH), &der::oid(OID_CLIENT_AUTH)]),
        ),
    ];
    let basic_constraints = if template.is_ca {
        der::seq(&[&der::tlv(der::BOOLEAN, &[0xff])])
    } else {
        der::seq(&[])
    };
    extensions.push(extension(OID_BASIC_CONSTRAINTS, true, &basic_constraints));
    if let Some(id) = &subject_key_id {
        extensions.push(extension(
            OID_SUBJECT_KEY_ID,
            false,
            &der::tlv(der::OCTET_STRING, id),
        ));
    }
    if let Some(id) = &authority_key_id {
        extensions.push(extension(
            OID_AUTHORITY_KEY_ID,
            false,
            &der::seq(&[&der::tlv(0x80, id)]),
        ));
    }
    if !template.dns_names.is_empty() || !template.ip_addresses.is_empty() {
        let subject_is_empty = template.common_name.is_empty();
        extensions.push(extension(
            OID_SUBJECT_ALT_NAME,
            subject_is_empty,
            &subject_alt_names(&template.dns_names, &template.ip_addresses)?,
        ));
    }

    let tbs = der::seq(&[
        &der::cons(0xa0, &[&der::tlv(der::INTEGER, &[2])]),
        &template.serial,
        &signature_algorithm,
        &issuer,
        &der::seq(&[&time(template.not_before)?, &time(template.not_after)?]),
        &subject,
        &der::seq(&[&key_algorithm, &der::bit_string(&public_key)]),
        &der::cons(0xa3, &[&der::tlv(der::SEQUENCE, &extensions.concat())]),
    ]);
    let signature = signer.sign(&tbs)?;
    Ok(der::seq(&[
        &tbs,
        &signature_algorithm,
        &der::bit_string(&signature),
    ]))
}

/// Reads what `CreateCertificate` needs from a parent certificate's DER; the error is the
/// parser's text.
pub(crate) fn parse_parent(cert_der: &[u8]) -> Result<Parent, CryptoError> {
    use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| CryptoError::Certificate(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let subject_key_id = tbs
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        });
    Ok(Parent {
        raw_subject: tbs.subject.as_raw().to_vec(),
        subject_key_id,
        public_key: tbs.subject_pki.subject_public_key.data.to_vec(),
    })
}

/// Checks a certificate parses, as Go's `x509.ParseCertificate` must for `buildCustomCert`.
pub(crate) fn check_certificate(cert_der: &[u8]) -> Result<(), CryptoError> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    X509Certificate::from_der(cert_der)
        .map(|_| ())
        .map_err(|e| CryptoError::Certificate(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_is_go_minimal_form() {
        let ca = KEY_USAGE_KEY_ENCIPHERMENT | KEY_USAGE_DIGITAL_SIGNATURE | KEY_USAGE_CERT_SIGN;
        assert_eq!(key_usage(ca), vec![0x03, 0x02, 0x02, 0xa4]);
        let leaf = KEY_USAGE_KEY_ENCIPHERMENT | KEY_USAGE_DIGITAL_SIGNATURE;
        assert_eq!(key_usage(leaf), vec![0x03, 0x02, 0x05, 0xa0]);
    }

    #[test]
    fn names_pick_go_string_types() {
        assert_eq!(name(""), vec![0x30, 0]);
        assert_eq!(name("foo")[11], der::PRINTABLE_STRING);
        assert_eq!(name("a*b")[11], der::UTF8_STRING);
        assert_eq!(name("a&b")[11], der::UTF8_STRING);
        assert_eq!(name("é")[11], der::UTF8_STRING);
    }

    #[test]
    fn times_switch_to_generalized_outside_1950_2049() {
        let at = |y: i32| {
            chrono::NaiveDate::from_ymd_opt(y, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp() as i128
                * 1_000_000_000
        };
        assert_eq!(time(at(2049)).unwrap()[0], der::UTC_TIME);
        assert_eq!(time(at(1950)).unwrap()[0], der::UTC_TIME);
        assert_eq!(time(at(2050)).unwrap()[0], der::GENERALIZED_TIME);
        assert_eq!(time(at(1949)).unwrap()[0], der::GENERALIZED_TIME);
        assert_eq!(time(at(2050)).unwrap(), b"\x18\x0f20500601000000Z".to_vec());
    }

    #[test]
    fn huge_day_counts_wrap_like_go_durations() {
        // Go: time.Hour*24*time.Duration(999999999) wraps to -4549327655539769344ns,
        // about -144 years (Helm v4.2.3 writes a NotAfter in 1882 for a 2026 NotBefore).
        let t = Template::new("x", vec![], vec![], 999_999_999, true);
        assert_eq!(t.not_after - t.not_before, -4_549_327_655_539_769_344);
        let t = Template::new("x", vec![], vec![], i64::MAX, true);
        assert_eq!(t.not_after - t.not_before, -i128::from(NANOS_PER_DAY));
        assert!(time(t.not_after).is_ok());
    }
}
