//! RSA key generation: a sieved prime search on AWS-LC's big-number primitives.
//!
//! Why not `aws_lc_rs::rsa::KeyPair::generate`: AWS-LC draws a fresh random candidate for
//! every attempt and rejects composites by constant-time trial division, which took a fifth
//! of a key's time in profiles of charts that generate certificates, and its small sieve lets
//! more composites through to the expensive Miller-Rabin test. Here one random start is drawn
//! per window, the next [`WINDOW`] odd numbers are sieved at once by every prime below a
//! bound chosen by size ([`sieve_primes`]; OpenSSL's classic method), survivors are filtered
//! by a base-2 Fermat test, and only those that pass go to AWS-LC's Miller-Rabin test,
//! which runs on its Montgomery assembly with the number of rounds AWS-LC uses for key
//! generation. (Sieving to 2^21 instead of 2^15 and the Fermat filter cut a 4096-bit key's
//! CPU time by about a quarter, a 2048-bit key's by about a seventh.) Keys are assembled as
//! Go's `rsa.GenerateKey` assembles them
//! (e = 65537, primes with their top two bits set so that N has exactly the bits asked for,
//! d = e^-1 mod lcm(p-1, q-1), the CRT values) and written as PKCS#1 DER.
//!
//! The search takes variable time: how far the first prime lies from the random start shows
//! in how long a key takes. OpenSSL's `BN_generate_prime_ex` has the same property; a local
//! observer timing a render learns nothing usable about the primes from it.

use std::ptr::null_mut;
use std::sync::LazyLock;

use aws_lc_sys as sys;

use super::error::CryptoError;

use super::der;

/// Odd candidates sieved per random start: the mean gap between 1024-bit primes is about
/// 710, so a window almost always holds several.
const WINDOW: usize = 8192;
/// The public exponent, as Go's `rsa.GenerateKey` uses.
const E: u32 = 65537;

/// The sieving primes for candidates of `bits` bits. A composite survives sieving by the
/// primes below B with probability about 1.12 / ln B (Mertens), so a larger bound saves
/// Miller-Rabin tests, each a modular exponentiation whose cost grows with the cube of the
/// size, while the sieve's cost (a residue per sieving prime) grows only linearly: the
/// bounds are where the two balance, measured.
fn sieve_primes(bits: u32) -> &'static SievePrimes {
    static SMALL: LazyLock<SievePrimes> = LazyLock::new(|| SievePrimes::below(1 << 18));
    static LARGE: LazyLock<SievePrimes> = LazyLock::new(|| SievePrimes::below(1 << 21));
    if bits > 1024 {
        &LARGE
    } else {
        &SMALL
    }
}

/// The odd primes below a bound, grouped so that the product of each group fits in 63
/// bits: one division of the big candidate by the product gives the residues modulo all
/// the group's primes, which cuts the sieve's big-number divisions by about 3.
struct SievePrimes {
    primes: Vec<u32>,
    /// (product, index of the group's first prime in `primes`, number of primes).
    groups: Vec<(u64, usize, usize)>,
}

impl SievePrimes {
    fn below(limit: usize) -> SievePrimes {
        let mut composite = vec![false; limit];
        let mut primes = Vec::new();
        for n in 3..limit {
            if composite[n] {
                continue;
            }
            if n % 2 == 1 {
                primes.push(n as u32);
            }
            for m in (n * n..limit).step_by(n) {
                composite[m] = true;
            }
        }
        let mut groups = Vec::new();
        let mut i = 0;
        while i < primes.len() {
            let (mut product, mut len) = (1u64, 0);
            while let Some(&p) = primes.get(i + len) {
                match product.checked_mul(p.into()) {
                    Some(next) if next < 1 << 63 => {
                        product = next;
                        len += 1;
                    }
                    _ => break,
                }
            }
            groups.push((product, i, len));
            i += len;
        }
        SievePrimes { primes, groups }
    }
}

fn failed() -> CryptoError {
    CryptoError::RsaGeneration
}

/// An owned BIGNUM.
struct Bn(*mut sys::BIGNUM);

impl Bn {
    fn new() -> Result<Bn, CryptoError> {
        // SAFETY: BN_new has no preconditions; a null result is checked.
        let bn = unsafe { sys::BN_new() };
        if bn.is_null() {
            return Err(failed());
        }
        Ok(Bn(bn))
    }

    fn from_word(w: u32) -> Result<Bn, CryptoError> {
        let bn = Bn::new()?;
        // SAFETY: `bn` is a live BIGNUM.
        check(unsafe { sys::BN_set_word(bn.0, w.into()) })?;
        Ok(bn)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Bn, CryptoError> {
        let bn = Bn::new()?;
        // SAFETY: `bytes` is a live slice of the length passed; `bn` is a live BIGNUM that
        // BN_bin2bn fills and returns (null on failure).
        if unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), bn.0) }.is_null() {
            return Err(failed());
        }
        Ok(bn)
    }

    /// Big-endian magnitude.
    fn bytes(&self) -> Vec<u8> {
        // SAFETY: BN_bn2bin writes exactly BN_num_bytes bytes into a buffer of that size.
        unsafe {
            let mut out = vec![0u8; sys::BN_num_bytes(self.0) as usize];
            sys::BN_bn2bin(self.0, out.as_mut_ptr());
            out
        }
    }

    fn bits(&self) -> u32 {
        // SAFETY: `self.0` is a live BIGNUM.
        unsafe { sys::BN_num_bits(self.0) }
    }

    fn mod_word(&self, w: u64) -> Result<u64, CryptoError> {
        // SAFETY: `self.0` is a live BIGNUM; a divisor of zero is never passed.
        let r = unsafe { sys::BN_mod_word(self.0, w) };
        if r >= w {
            return Err(failed());
        }
        Ok(r)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_new and is freed once, here.
        unsafe { sys::BN_free(self.0) }
    }
}

/// An owned BN_CTX (scratch space for AWS-LC's arithmetic).
struct Ctx(*mut sys::BN_CTX);

impl Ctx {
    fn new() -> Result<Ctx, CryptoError> {
        // SAFETY: BN_CTX_new has no preconditions; a null result is checked.
        let ctx = unsafe { sys::BN_CTX_new() };
        if ctx.is_null() {
            return Err(failed());
        }
        Ok(Ctx(ctx))
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_CTX_new and is freed once, here.
        unsafe { sys::BN_CTX_free(self.0) }
    }
}

fn check(ok: std::os::raw::c_int) -> Result<(), CryptoError> {
    if ok == 1 {
        Ok(())
    } else {
        Err(failed())
    }
}

/// 2^-1 modulo an odd number m: (m + 1) / 2.
fn inverse_of_two(m: u32) -> u64 {
    m as u64 / 2 + 1
}

/// A random prime of exactly `bits` bits with its top two bits set and p - 1 prime to e.
fn random_prime(bits: u32, ctx: &Ctx) -> Result<Bn, CryptoError> {
    let sieve = sieve_primes(bits);
    let start = Bn::new()?;
    let candidate = Bn::new()?;
    let fermat = Bn::new()?;
    let exponent = Bn::new()?;
    let mut composite = vec![false; WINDOW];
    loop {
        // SAFETY: `start` is a live BIGNUM; top = 1 sets the two high bits, bottom = 1 makes
        // it odd.
        check(unsafe {
            sys::BN_rand(
                start.0,
                bits as _,
                sys::BN_RAND_TOP_TWO,
                sys::BN_RAND_BOTTOM_ODD,
            )
        })?;
        // Candidate i is start + 2i. It is divisible by an odd prime p when
        // start + 2i = 0 (mod p), i.e. i = (p - r) * (p + 1) / 2 (mod p) with r = start mod p.
        composite.fill(false);
        for &(product, first, len) in &sieve.groups {
            let r_group = start.mod_word(product)?;
            for &p in &sieve.primes[first..first + len] {
                let r = (r_group % u64::from(p)) as u32;
                let first = ((p - r) % p) as u64 * inverse_of_two(p) % p as u64;
                for i in (first as usize..WINDOW).step_by(p as usize) {
                    composite[i] = true;
                }
            }
        }
        // p - 1 must be prime to e: skip start + 2i = 1 (mod e).
        let r = start.mod_word(E.into())? as u32;
        let first = ((E + 1 - r) % E) as u64 * inverse_of_two(E) % E as u64;
        for i in (first as usize..WINDOW).step_by(E as usize) {
            composite[i] = true;
        }
        for (i, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
            // SAFETY: both are live BIGNUMs; BN_copy returns its destination or null.
            if unsafe { sys::BN_copy(candidate.0, start.0) }.is_null() {
                return Err(failed());
            }
            // SAFETY: `candidate` is a live BIGNUM.
            check(unsafe { sys::BN_add_word(candidate.0, 2 * i as u64) })?;
            if candidate.bits() != bits {
                break; // Ran past the top of the range: draw a new start.
            }
            if !passes_fermat_base_two(&candidate, &exponent, &fermat, ctx)? {
                continue;
            }
            let mut is_prime: std::os::raw::c_int = 0;
            // SAFETY: `candidate` and `ctx` are live; no trial division (the sieve did it)
            // and no callback.
            check(unsafe {
                sys::BN_primality_test(
                    &mut is_prime,
                    candidate.0,
                    sys::BN_prime_checks_for_generation,
                    ctx.0,
                    0,
                    null_mut(),
                )
            })?;
            if is_prime == 1 {
                let prime = Bn::new()?;
                // SAFETY: both are live BIGNUMs.
                if unsafe { sys::BN_copy(prime.0, candidate.0) }.is_null() {
                    return Err(failed());
                }
                return Ok(prime);
            }
        }
    }
}

/// Whether 2^(n-1) = 1 (mod n): a cheap first filter, since nearly every candidate that
/// survives the sieve is composite and fails it. It runs in variable time (AWS-LC's sliding
/// window with a one-word base), which is sound here: it only rejects numbers that are
/// thrown away; the candidate that passes then gets AWS-LC's constant-time Miller-Rabin
/// test with random bases, as before.
fn passes_fermat_base_two(
    n: &Bn,
    exponent: &Bn,
    result: &Bn,
    ctx: &Ctx,
) -> Result<bool, CryptoError> {
    // SAFETY: all BIGNUMs and the context are live; `exponent` and `result` are scratch
    // values distinct from `n`; each call's result is checked.
    unsafe {
        if sys::BN_copy(exponent.0, n.0).is_null() {
            return Err(failed());
        }
        check(sys::BN_sub_word(exponent.0, 1))?;
        check(sys::BN_mod_exp_mont_word(
            result.0,
            2,
            exponent.0,
            n.0,
            ctx.0,
            null_mut(),
        ))?;
        Ok(sys::BN_is_one(result.0) == 1)
    }
}

/// A random prime for an RSA key of `key_bits` bits (half that size), big-endian, as
/// [`assemble_pkcs1`] takes it: primes travel between threads as bytes, since a BIGNUM is
/// not `Send`.
pub(crate) fn random_key_prime(key_bits: u32) -> Result<Vec<u8>, CryptoError> {
    let ctx = Ctx::new()?;
    Ok(random_prime(key_bits / 2, &ctx)?.bytes())
}

/// A new RSA key of `bits` bits (2048 or 4096), as PKCS#1 RSAPrivateKey DER.
#[cfg(test)]
pub(crate) fn generate_pkcs1(bits: u32) -> Result<Vec<u8>, CryptoError> {
    let p = random_key_prime(bits)?;
    let q = loop {
        let q = random_key_prime(bits)?;
        if q != p {
            break q;
        }
    };
    assemble_pkcs1(bits, &p, &q)
}

/// The RSA key of `bits` bits with the primes `p` and `q` (big-endian, distinct, each of
/// half the size with its top two bits set), as PKCS#1 RSAPrivateKey DER.
pub(crate) fn assemble_pkcs1(bits: u32, p: &[u8], q: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let ctx = Ctx::new()?;
    let (p, q) = (Bn::from_bytes(p)?, Bn::from_bytes(q)?);
    // SAFETY: both are live BIGNUMs.
    if unsafe { sys::BN_cmp(p.0, q.0) } == 0 {
        return Err(failed());
    }
    let (n, e, d) = (Bn::new()?, Bn::from_word(E)?, Bn::new()?);
    let (p1, q1, gcd, phi, lambda) = (Bn::new()?, Bn::new()?, Bn::new()?, Bn::new()?, Bn::new()?);
    let (dp, dq, qinv) = (Bn::new()?, Bn::new()?, Bn::new()?);
    // SAFETY: every BIGNUM and the context are live and distinct where AWS-LC requires
    // (results never alias operands); each call's result is checked.
    unsafe {
        check(sys::BN_mul(n.0, p.0, q.0, ctx.0))?;
        if sys::BN_copy(p1.0, p.0).is_null() || sys::BN_copy(q1.0, q.0).is_null() {
            return Err(failed());
        }
        check(sys::BN_sub_word(p1.0, 1))?;
        check(sys::BN_sub_word(q1.0, 1))?;
        check(sys::BN_mul(phi.0, p1.0, q1.0, ctx.0))?;
        check(sys::BN_gcd(gcd.0, p1.0, q1.0, ctx.0))?;
        check(sys::BN_div(lambda.0, null_mut(), phi.0, gcd.0, ctx.0))?;
        if sys::BN_mod_inverse(d.0, e.0, lambda.0, ctx.0).is_null() {
            return Err(failed());
        }
        check(sys::BN_nnmod(dp.0, d.0, p1.0, ctx.0))?;
        check(sys::BN_nnmod(dq.0, d.0, q1.0, ctx.0))?;
        if sys::BN_mod_inverse(qinv.0, q.0, p.0, ctx.0).is_null() {
            return Err(failed());
        }
    }
    if n.bits() != bits {
        return Err(failed());
    }
    let int = |bn: &Bn| der::unsigned_integer(&bn.bytes());
    Ok(der::seq(&[
        &der::tlv(der::INTEGER, &[0]),
        &int(&n),
        &int(&e),
        &int(&d),
        &int(&p),
        &int(&q),
        &int(&dp),
        &int(&dq),
        &int(&qinv),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sieve_primes_are_the_odd_primes_below_the_limit() {
        let primes = &sieve_primes(2048).primes;
        assert_eq!(&primes[..6], &[3, 5, 7, 11, 13, 17]);
        assert_eq!(primes.len(), 155_610, "π(2^21) = 155611, less the prime 2");
        assert_eq!(
            sieve_primes(1024).primes.len(),
            22_999,
            "π(2^18) = 23000, less the prime 2"
        );
        let groups = &sieve_primes(2048).groups;
        assert!(groups.iter().all(|&(product, first, len)| {
            product
                == primes[first..first + len]
                    .iter()
                    .map(|&p| p as u64)
                    .product::<u64>()
        }));
        assert_eq!(groups.iter().map(|g| g.2).sum::<usize>(), primes.len());
        assert!(primes
            .iter()
            .all(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0)));
    }

    #[test]
    fn keys_are_valid_and_of_the_size_asked() {
        let der = generate_pkcs1(2048).unwrap();
        // AWS-LC checks the key's consistency (n = pq, d*e = 1 mod lcm, the CRT values).
        let pair = aws_lc_rs::rsa::KeyPair::from_der(&der).expect("a consistent RSA key");
        assert_eq!(pair.public_modulus_len(), 256);
        let (outer, rest) = der::read(&der).unwrap();
        assert!(rest.is_empty());
        let fields = der::children(outer.content).unwrap();
        assert_eq!(fields.len(), 9);
        assert_eq!(fields[2].content, &[1, 0, 1], "e = 65537");
    }
}
