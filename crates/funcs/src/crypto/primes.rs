//! RSA key generation: a sieved prime search on AWS-LC's big-number primitives.
//!
//! Why not `aws_lc_rs::rsa::KeyPair::generate`: AWS-LC draws a fresh random candidate for
//! every attempt and rejects composites by constant-time trial division, which took a fifth
//! of a key's time in profiles of charts that generate certificates, and its small sieve lets
//! more composites through to the expensive Miller-Rabin test. Here one random start is drawn
//! per window, the next [`WINDOW`] odd numbers are sieved at once by every prime below
//! [`SIEVE_LIMIT`] (OpenSSL's classic method), and only survivors go to AWS-LC's
//! Miller-Rabin test, which runs on its Montgomery assembly with the number of rounds AWS-LC
//! uses for key generation. Keys are assembled as Go's `rsa.GenerateKey` assembles them
//! (e = 65537, primes with their top two bits set so that N has exactly the bits asked for,
//! d = e^-1 mod lcm(p-1, q-1), the CRT values) and written as PKCS#1 DER.
//!
//! The search takes variable time: how far the first prime lies from the random start shows
//! in how long a key takes. OpenSSL's `BN_generate_prime_ex` has the same property; a local
//! observer timing a render learns nothing usable about the primes from it.

use super::error::CryptoError;
use std::ptr::null_mut;
use std::sync::LazyLock;

use aws_lc_sys as sys;

use super::der;

/// Odd candidates sieved per random start: the mean gap between 1024-bit primes is about
/// 710, so a window almost always holds several.
const WINDOW: usize = 8192;
/// Sieving primes are those below this bound: larger bounds remove few more composites.
const SIEVE_LIMIT: u32 = 1 << 15;
/// The public exponent, as Go's `rsa.GenerateKey` uses.
const E: u32 = 65537;

static SMALL_PRIMES: LazyLock<Vec<u32>> = LazyLock::new(|| {
    let limit = SIEVE_LIMIT as usize;
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
    primes
});

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

    fn mod_word(&self, w: u32) -> Result<u32, CryptoError> {
        // SAFETY: `self.0` is a live BIGNUM; a divisor of zero is never passed.
        let r = unsafe { sys::BN_mod_word(self.0, w.into()) };
        u32::try_from(r).map_err(|_| failed())
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
    let primes = &*SMALL_PRIMES;
    let start = Bn::new()?;
    let candidate = Bn::new()?;
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
        for &p in primes {
            let r = start.mod_word(p)?;
            let first = ((p - r) % p) as u64 * inverse_of_two(p) % p as u64;
            for i in (first as usize..WINDOW).step_by(p as usize) {
                composite[i] = true;
            }
        }
        // p - 1 must be prime to e: skip start + 2i = 1 (mod e).
        let r = start.mod_word(E)?;
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

/// A new RSA key of `bits` bits (2048 or 4096), as PKCS#1 RSAPrivateKey DER.
pub(crate) fn generate_pkcs1(bits: u32) -> Result<Vec<u8>, CryptoError> {
    let ctx = Ctx::new()?;
    let p = random_prime(bits / 2, &ctx)?;
    let q = loop {
        let q = random_prime(bits - bits / 2, &ctx)?;
        // SAFETY: both are live BIGNUMs.
        if unsafe { sys::BN_cmp(p.0, q.0) } != 0 {
            break q;
        }
    };
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
        let primes = &*SMALL_PRIMES;
        assert_eq!(&primes[..6], &[3, 5, 7, 11, 13, 17]);
        assert_eq!(primes.len(), 3511, "π(2^15) = 3512, less the prime 2");
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
