//! Sprig's `bcrypt` and `htpasswd`: Go's `bcrypt.GenerateFromPassword` at Sprig's cost
//! (`bcrypt.DefaultCost`, 10), which writes the `$2a$` form with a fresh random salt.
//!
//! Why not the `bcrypt` crate: speed, and one difference from Go. A hash at cost 10 is about
//! a million Blowfish encryptions, each waiting on the one before, and it decides the time
//! of every chart that calls `htpasswd` (prometheus-pushgateway with basic auth: one call,
//! nine tenths of the render). Measured on the 2-core AMD EPYC VM of README's speed section,
//! medians of 9: the crate 47 ms, Go's (Helm's) 44 ms, this module 37 ms. The crate's round
//! function reads the S-box index of the second byte with a shift and a mask, two steps on
//! the path from one round to the next; here it is one `BEXTR` where the CPU has BMI1 (40
//! ms without it), and each round's xor with the P-array is taken off that path. The
//! difference: Go refuses a password over 72 bytes ("password length exceeds 72 bytes"),
//! which Sprig prints in place of the hash; the crate silently cut it to 72.

use super::blowfish_pi;
use super::error::CryptoError;

/// Sprig's cost, Go's `bcrypt.DefaultCost`: 2^10 rounds of the key schedule.
const COST: u32 = 10;
/// The longest password Go's bcrypt takes: Blowfish's key is at most 72 bytes.
const MAX_PASSWORD: usize = 72;
/// The text every bcrypt hash encrypts 64 times: "OrpheanBeholderScryDoubt".
const MAGIC: [u32; 6] = [
    0x4f72_7068,
    0x6561_6e42,
    0x6568_6f6c,
    0x6465_7253,
    0x6372_7944,
    0x6f75_6274,
];

/// The hash of `password` with a new random salt, as Go writes it: `$2a$10$`, the salt in
/// 22 characters and the hash in 31, in bcrypt's base64 alphabet.
pub(crate) fn hash(password: &[u8]) -> Result<String, CryptoError> {
    let mut salt = [0u8; 16];
    rand::Rng::fill(&mut rand::thread_rng(), &mut salt);
    hash_with_salt(password, &salt)
}

fn hash_with_salt(password: &[u8], salt: &[u8; 16]) -> Result<String, CryptoError> {
    use base64::Engine as _;
    if password.len() > MAX_PASSWORD {
        return Err(CryptoError::PasswordTooLong);
    }
    // Go appends a NUL and uses at most 72 bytes of key: a 72-byte password loses its NUL.
    let mut key = Vec::with_capacity(password.len() + 1);
    key.extend_from_slice(password);
    key.push(0);
    key.truncate(MAX_PASSWORD);
    let raw = raw_hash(COST, salt, &key);
    let base64 = base64::engine::GeneralPurpose::new(
        &base64::alphabet::BCRYPT,
        base64::engine::general_purpose::NO_PAD,
    );
    // The last byte of the 24 encrypted is left out, as every bcrypt does.
    Ok(format!(
        "$2a${COST:02}${}{}",
        base64.encode(salt),
        base64.encode(&raw[..23])
    ))
}

/// bcrypt's 24 raw bytes for `key` (the password with its NUL, 1 to 72 bytes) and `salt`.
fn raw_hash(cost: u32, salt: &[u8; 16], key: &[u8]) -> [u8; 24] {
    #[cfg(target_arch = "x86_64")]
    if let Some(bmi1) = Bmi1::detect() {
        // SAFETY: `detect` found BMI1, the only feature the function enables.
        return unsafe { raw_hash_bmi1(bmi1, cost, salt, key) };
    }
    eks_blowfish(&Portable, cost, salt, key)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1")]
fn raw_hash_bmi1(bmi1: Bmi1, cost: u32, salt: &[u8; 16], key: &[u8]) -> [u8; 24] {
    eks_blowfish(&bmi1, cost, salt, key)
}

/// How the round function takes the second byte of a word (bits 16-23). It is on the path
/// from one round to the next, so one instruction instead of two is a tenth of the time.
trait SecondByte {
    fn second_byte(&self, x: u32) -> usize;
}

struct Portable;

impl SecondByte for Portable {
    #[inline(always)]
    fn second_byte(&self, x: u32) -> usize {
        ((x >> 16) & 0xff) as usize
    }
}

/// Proof that the CPU has BMI1: only [`Bmi1::detect`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Bmi1(());

#[cfg(target_arch = "x86_64")]
impl Bmi1 {
    fn detect() -> Option<Bmi1> {
        std::arch::is_x86_feature_detected!("bmi1").then_some(Bmi1(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl SecondByte for Bmi1 {
    #[inline(always)]
    fn second_byte(&self, x: u32) -> usize {
        // 8 bits from bit 16.
        // SAFETY: a `Bmi1` exists only where the CPU has BMI1.
        (unsafe { std::arch::x86_64::_bextr2_u32(x, 0x0810) }) as usize
    }
}

/// Blowfish's state: the P-array and the four S-boxes, one after another.
struct Blowfish {
    p: [u32; 18],
    s: [u32; 1024],
}

/// Blowfish's round function.
#[inline(always)]
fn feistel<B: SecondByte>(bytes: &B, s: &[u32; 1024], x: u32) -> u32 {
    let a = s[(x >> 24) as usize];
    let b = s[256 + bytes.second_byte(x)];
    let c = s[512 + ((x >> 8) & 0xff) as usize];
    let d = s[768 + (x & 0xff) as usize];
    (a.wrapping_add(b) ^ c).wrapping_add(d)
}

/// One block encrypted under `p` and `s`.
#[inline(always)]
fn encrypt<B: SecondByte>(
    bytes: &B,
    p: &[u32; 18],
    s: &[u32; 1024],
    mut l: u32,
    mut r: u32,
) -> (u32, u32) {
    l ^= p[0];
    for i in (1..17).step_by(2) {
        // The P word is xored into the other half first, off the path through the round
        // function.
        r = (r ^ p[i]) ^ feistel(bytes, s, l);
        l = (l ^ p[i + 1]) ^ feistel(bytes, s, r);
    }
    (r ^ p[17], l)
}

/// `data` as big-endian 32-bit words, cycling through it as Blowfish's key schedule does.
fn cycled_words<const N: usize>(data: &[u8]) -> [u32; N] {
    let mut bytes = data.iter().copied().cycle();
    std::array::from_fn(|_| {
        (0..4).fold(0u32, |word, _| {
            (word << 8) | u32::from(bytes.next().unwrap_or_default())
        })
    })
}

impl Blowfish {
    /// Blowfish's key schedule with the key xored into the P-array; with a salt, as bcrypt's
    /// expensive setup first runs it, the salt's words are xored into each block before it
    /// is encrypted.
    #[inline(always)]
    fn expand_key<B: SecondByte>(&mut self, bytes: &B, key: &[u32; 18], salt: Option<&[u32; 4]>) {
        for (p, k) in self.p.iter_mut().zip(key) {
            *p ^= k;
        }
        let (mut l, mut r) = (0u32, 0u32);
        let mut next = 0;
        let mut salted = |l: &mut u32, r: &mut u32| {
            if let Some(salt) = salt {
                *l ^= salt[next];
                *r ^= salt[next + 1];
                next ^= 2;
            }
        };
        for i in (0..18).step_by(2) {
            salted(&mut l, &mut r);
            (l, r) = encrypt(bytes, &self.p, &self.s, l, r);
            self.p[i] = l;
            self.p[i + 1] = r;
        }
        let p = self.p;
        for i in (0..1024).step_by(2) {
            salted(&mut l, &mut r);
            (l, r) = encrypt(bytes, &p, &self.s, l, r);
            self.s[i] = l;
            self.s[i + 1] = r;
        }
    }
}

/// bcrypt's expensive key setup (EksBlowfishSetup), then "OrpheanBeholderScryDoubt"
/// encrypted 64 times under the state it leaves.
#[inline(always)]
fn eks_blowfish<B: SecondByte>(bytes: &B, cost: u32, salt: &[u8; 16], key: &[u8]) -> [u8; 24] {
    let key_words = cycled_words::<18>(key);
    let salt_words = cycled_words::<4>(salt);
    let salt_as_key = cycled_words::<18>(salt);
    let mut state = Blowfish {
        p: blowfish_pi::P,
        s: blowfish_pi::S,
    };
    state.expand_key(bytes, &key_words, Some(&salt_words));
    for _ in 0..1u64 << cost {
        state.expand_key(bytes, &key_words, None);
        state.expand_key(bytes, &salt_as_key, None);
    }
    let mut text = MAGIC;
    for block in text.chunks_exact_mut(2) {
        for _ in 0..64 {
            (block[0], block[1]) = encrypt(bytes, &state.p, &state.s, block[0], block[1]);
        }
    }
    let mut out = [0u8; 24];
    for (chunk, word) in out.chunks_exact_mut(4).zip(text) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Differential against the `bcrypt` crate (itself checked against OpenBSD's vectors):
    /// random keys of every length up to 72 bytes and random salts, at low costs.
    #[test]
    fn matches_the_bcrypt_crate() {
        use rand::{Rng, RngCore};
        let mut rng = rand::thread_rng();
        for len in 1..=MAX_PASSWORD {
            let mut key = vec![0u8; len];
            rng.fill_bytes(&mut key);
            let mut salt = [0u8; 16];
            rng.fill_bytes(&mut salt);
            let cost = rng.gen_range(4..=6);
            let want = ::bcrypt::bcrypt(cost, salt, &key);
            assert_eq!(
                raw_hash(cost, &salt, &key),
                want,
                "key {key:?} salt {salt:?}"
            );
            assert_eq!(eks_blowfish(&Portable, cost, &salt, &key), want);
        }
    }

    /// The whole text, against the crate's for the same salt (which cuts long passwords
    /// where Go refuses them, so only up to 72 bytes).
    #[test]
    fn formats_as_go_does() {
        let salt = *b"0123456789abcdef";
        for password in ["", "pass", &"a".repeat(71), &"a".repeat(72)] {
            let want = ::bcrypt::hash_with_salt(password, COST, salt)
                .unwrap()
                .format_for_version(::bcrypt::Version::TwoA);
            assert_eq!(hash_with_salt(password.as_bytes(), &salt).unwrap(), want);
        }
        let hashed = hash(b"pass").unwrap();
        assert_eq!(hashed.len(), 60);
        assert!(hashed.starts_with("$2a$10$"), "{hashed}");
        assert!(::bcrypt::verify("pass", &hashed).unwrap());
    }

    /// Go's limit: bcrypt.GenerateFromPassword returns ErrPasswordTooLong over 72 bytes
    /// (x/crypto/bcrypt's "password length exceeds 72 bytes"). What Helm v4.2.3 prints for
    /// it through Sprig is pinned by the conformance case `bcrypt-password-length`.
    #[test]
    fn refuses_passwords_over_72_bytes() {
        let err = hash(&[b'a'; 73]).unwrap_err();
        assert_eq!(err.to_string(), "bcrypt: password length exceeds 72 bytes");
    }
}
