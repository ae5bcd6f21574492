//! RSA key generation: a sieved prime search on AWS-LC's big-number primitives.
//!
//! Why not `aws_lc_rs::rsa::KeyPair::generate`: AWS-LC draws a fresh random candidate for
//! every attempt and rejects composites by constant-time trial division, which took a fifth
//! of a key's time in profiles of charts that generate certificates, and its small sieve lets
//! more composites through to the expensive Miller-Rabin test. Here one random start is drawn
//! per window, the next [`WINDOW`] odd numbers are sieved at once by every prime below a
//! bound chosen by size ([`sieve_primes`]; OpenSSL's classic method), survivors are filtered
//! by a base-2 Fermat test ([`passes_fermat_base_two`]), and only those that pass go to a
//! Miller-Rabin test with the number of rounds AWS-LC uses for key generation, on AWS-LC's
//! constant-time exponentiation ([`passes_miller_rabin`]). On a CPU with AVX-512 IFMA both
//! tests run two exponentiations at once on AWS-LC's paired code ([`pairs_exponentiations`]):
//! two candidates' Fermat tests, or two Miller-Rabin rounds. Keys are assembled as Go's
//! `rsa.GenerateKey` assembles them (e = 65537, primes with their top two bits set so that N
//! has exactly the bits asked for, d = e^-1 mod lcm(p-1, q-1), the CRT values) and written as
//! PKCS#1 DER.
//!
//! Where the time goes, for a 2048-bit prime (half a 4096-bit key; CPU time of one thread
//! on a shared 2-core AMD EPYC VM with AVX-512 IFMA; the ignored test `time_prime_search`
//! measures it), a mean over 100 primes: 38 ms in all, of which the sieve 2.6 ms (one window
//! nearly always holds a prime), 56 Fermat tests of 0.58 ms each, in pairs, and one
//! Miller-Rabin test of 2.5 ms. Without the pairs, on the same machine in the same hour: 76
//! ms, with Fermat tests of 1.15 ms and Miller-Rabin 6.0 ms. A 1024-bit prime (half a
//! 2048-bit key): 4.0 ms over 300 primes, 6.8 ms without the pairs. The whole `template` of
//! a chart that makes three 4096-bit keys (bitnami etcd), 40 runs each alternating with the
//! code without pairs: median wall 0.13 against 0.25 s (the run-to-run spread is wide:
//! 0.07-0.47 s). The rounds before: AWS-LC's general exponentiation for the Fermat test and
//! its blinded Miller-Rabin test (16 rounds or more, 41 ms on a 2048-bit prime here) took
//! about 2.5 times as long as the unpaired search.
//!
//! The sieving bound: a survivor is prime with probability about e^γ ln B / ln N, so the
//! Fermat tests per prime fall as 1 / ln B while the sieve's cost grows with the number of
//! primes below B (measured: 17-28 ns each per window at 2048 bits, as the machine's
//! speed drifts). By that model the balance, B ln B = about 800 Fermat tests' time over
//! that cost, lies near 2^21.4 for 2048-bit candidates tested one at a time (1.8 ms a test,
//! 28 ns a sieving prime, measured in the same hour) and near 2^20.8 for pairs (0.58 ms a
//! test, 17 ns): 2^21 serves both, and its table takes 4-7 ms to build, once per process.
//! For 1024-bit candidates (Fermat tests of 0.29 ms, 17 ns a sieving prime, unpaired) 2^20
//! would save about 0.9 ms of Fermat tests for 1.0 ms more sieving than 2^18; in pairs the
//! smaller bound is right all the more.
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
/// Divisions of the sieve run side by side ([`WordDivisor::remainders`]).
const INTERLEAVED: usize = 8;
/// The public exponent, as Go's `rsa.GenerateKey` uses.
const E: u32 = 65537;

/// The sieving primes for candidates of `bits` bits. A composite survives sieving by the
/// primes below B with probability about 1.12 / ln B (Mertens), so a larger bound saves
/// Fermat tests, each a modular exponentiation whose cost grows with the cube of the size,
/// while the sieve's cost (a residue per sieving prime) grows only linearly: the bounds are
/// where the two balance (see the module doc).
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
    groups: Vec<PrimeGroup>,
}

/// Consecutive primes of a [`SievePrimes`] and their product, with what dividing a big
/// number by the product takes ([`WordDivisor`]).
struct PrimeGroup {
    divisor: WordDivisor,
    /// Index of the group's first prime in `primes`.
    first: usize,
    len: usize,
}

impl SievePrimes {
    fn below(limit: usize) -> SievePrimes {
        let primes = odd_primes_below(limit);
        let mut groups = Vec::new();
        let mut first = 0;
        while first < primes.len() {
            let (mut product, mut len) = (1u64, 0);
            while let Some(&p) = primes.get(first + len) {
                match product.checked_mul(p.into()) {
                    Some(next) if next < 1 << 63 => {
                        product = next;
                        len += 1;
                    }
                    _ => break,
                }
            }
            groups.push(PrimeGroup {
                divisor: WordDivisor::new(product),
                first,
                len,
            });
            first += len;
        }
        SievePrimes { primes, groups }
    }
}

/// The odd primes below `limit`, by Eratosthenes' sieve on odd numbers only (sieving
/// every number, even ones included, took 13-19 ms below 2^21 against 3.5-4.5 ms, in a
/// standalone program).
fn odd_primes_below(limit: usize) -> Vec<u32> {
    // Index i stands for 2i + 1.
    let mut composite = vec![false; limit / 2];
    let mut primes = Vec::new();
    for i in 1..limit / 2 {
        if composite[i] {
            continue;
        }
        let n = 2 * i + 1;
        primes.push(n as u32);
        // The odd multiples of n from n^2 on: index n^2 / 2, step n.
        for j in (n * n / 2..limit / 2).step_by(n) {
            composite[j] = true;
        }
    }
    primes
}

/// Division of big numbers by one word `m` (odd, above 1, below 2^63) with a precomputed
/// reciprocal (Möller and Granlund, "Improved division by invariant integers", 2011): two
/// multiplications a word. AWS-LC's `BN_mod_word` divides with a 128-bit division routine
/// (`__umodti3`), and one division at a time: the residues of a 2048-bit start modulo the
/// 51351 group products below 2^21 took it 8.2-8.8 ms, [`WordDivisor::remainders`] 3.3-3.6
/// (one at a time, as `BN_mod_word` does, 8.0).
struct WordDivisor {
    /// m shifted left until its top bit is set.
    normalized: u64,
    shift: u32,
    /// floor((2^128 - 1) / normalized) - 2^64.
    reciprocal: u64,
}

impl WordDivisor {
    fn new(m: u64) -> WordDivisor {
        debug_assert!(m > 1 && m < 1 << 63);
        let shift = m.leading_zeros();
        let normalized = m << shift;
        WordDivisor {
            normalized,
            shift,
            reciprocal: (u128::MAX / u128::from(normalized)) as u64,
        }
    }

    #[cfg(test)]
    fn modulus(&self) -> u64 {
        self.normalized >> self.shift
    }

    /// (high * 2^64 + low) mod normalized, for high < normalized.
    fn reduce_normalized(&self, high: u64, low: u64) -> u64 {
        let d = self.normalized;
        let product = u128::from(self.reciprocal) * u128::from(high);
        let quotient = product + ((u128::from(high) << 64) | u128::from(low));
        let (q_high, q_low) = (((quotient >> 64) as u64).wrapping_add(1), quotient as u64);
        let mut r = low.wrapping_sub(q_high.wrapping_mul(d));
        if r > q_low {
            r = r.wrapping_add(d);
        }
        if r >= d {
            r -= d;
        }
        r
    }

    /// The number with little-endian words `words` modulo each divisor's m, the divisions
    /// interleaved: each one is a chain of dependent multiplications, so that running
    /// several side by side keeps the multiplier busy.
    fn remainders<const K: usize>(divisors: [&WordDivisor; K], words: &[u64]) -> [u64; K] {
        let Some(&top) = words.last() else {
            return [0; K];
        };
        // m < 2^63: every shift is between 1 and 63.
        let mut r = divisors.map(|d| top >> (64 - d.shift));
        for i in (0..words.len()).rev() {
            let below = if i > 0 { words[i - 1] } else { 0 };
            for (r, d) in r.iter_mut().zip(divisors) {
                let low = (words[i] << d.shift) | (below >> (64 - d.shift));
                *r = d.reduce_normalized(*r, low);
            }
        }
        for (r, d) in r.iter_mut().zip(divisors) {
            *r >>= d.shift;
        }
        r
    }

    /// The number with little-endian words `words` modulo m.
    fn remainder(&self, words: &[u64]) -> u64 {
        Self::remainders([self], words)[0]
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

    /// The little-endian 64-bit words of the magnitude, into `words`.
    fn words_into(&self, words: &mut Vec<u64>) -> Result<(), CryptoError> {
        // SAFETY: `self.0` is a live BIGNUM.
        let len = unsafe { sys::BN_num_bytes(self.0) } as usize;
        let mut bytes = vec![0u8; len.div_ceil(8) * 8];
        // SAFETY: `bytes` is a live buffer of the length passed, large enough.
        check(unsafe { sys::BN_bn2le_padded(bytes.as_mut_ptr(), bytes.len(), self.0) })?;
        words.clear();
        words.extend(
            bytes
                .chunks_exact(8)
                .map(|word| u64::from_le_bytes(word.try_into().expect("8 bytes"))),
        );
        Ok(())
    }

    fn bits(&self) -> u32 {
        // SAFETY: `self.0` is a live BIGNUM.
        unsafe { sys::BN_num_bits(self.0) }
    }

    /// Makes this a copy of `other`, a distinct BIGNUM.
    fn copy_from(&self, other: &Bn) -> Result<(), CryptoError> {
        // SAFETY: both are live BIGNUMs; BN_copy returns its destination or null.
        if unsafe { sys::BN_copy(self.0, other.0) }.is_null() {
            return Err(failed());
        }
        Ok(())
    }

    /// Makes this `n - 1`, for an `n` (a distinct BIGNUM) of at least 1.
    fn set_one_less(&self, n: &Bn) -> Result<(), CryptoError> {
        self.copy_from(n)?;
        // SAFETY: `self.0` is a live BIGNUM.
        check(unsafe { sys::BN_sub_word(self.0, 1) })
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

/// t / 2 modulo an odd m, for t < m: t / 2 or (t + m) / 2, whichever is whole.
fn half_mod(t: u32, m: u32) -> u32 {
    if t.is_multiple_of(2) {
        t / 2
    } else {
        ((u64::from(t) + u64::from(m)) / 2) as u32
    }
}

/// A random prime of exactly `bits` bits with its top two bits set and p - 1 prime to e.
fn random_prime(bits: u32, ctx: &Ctx) -> Result<Bn, CryptoError> {
    let mut search = Search::new(bits, ctx)?;
    loop {
        search.draw_and_sieve()?;
        if let Some(prime) = search.first_prime()? {
            return Ok(prime);
        }
    }
}

/// One prime search: its random start, the sieved window after it, and scratch values.
struct Search<'a> {
    bits: u32,
    sieve: &'static SievePrimes,
    start: Bn,
    /// `start`'s words, for the sieve.
    start_words: Vec<u64>,
    /// The candidates under test: two at a time where [`pairs_exponentiations`] holds.
    candidates: [Bn; 2],
    fermat: Pow2Scratch,
    /// Candidate i (start + 2i) has a small factor, or p - 1 a factor e.
    composite: Vec<bool>,
    /// Fermat tests run, for the measurements of the tests.
    fermat_tests: usize,
    ctx: &'a Ctx,
}

impl Search<'_> {
    fn new(bits: u32, ctx: &Ctx) -> Result<Search<'_>, CryptoError> {
        Ok(Search {
            bits,
            sieve: sieve_primes(bits),
            start: Bn::new()?,
            start_words: Vec::new(),
            candidates: [Bn::new()?, Bn::new()?],
            fermat: Pow2Scratch::new()?,
            composite: vec![false; WINDOW],
            fermat_tests: 0,
            ctx,
        })
    }

    /// Draws a random start and sieves the window of odd numbers after it.
    fn draw_and_sieve(&mut self) -> Result<(), CryptoError> {
        // SAFETY: `start` is a live BIGNUM; top = 1 sets the two high bits, bottom = 1 makes
        // it odd.
        check(unsafe {
            sys::BN_rand(
                self.start.0,
                self.bits as _,
                sys::BN_RAND_TOP_TWO,
                sys::BN_RAND_BOTTOM_ODD,
            )
        })?;
        // Candidate i is start + 2i. It is divisible by an odd prime p when
        // start + 2i = 0 (mod p), i.e. i = -r / 2 (mod p) with r = start mod p.
        self.start.words_into(&mut self.start_words)?;
        let words = &self.start_words;
        let composite = &mut self.composite;
        composite.fill(false);
        let mark = |composite: &mut [bool], group: &PrimeGroup, r_group: u64| {
            for &p in &self.sieve.primes[group.first..group.first + group.len] {
                let r = (r_group % u64::from(p)) as u32;
                let first = half_mod(if r == 0 { 0 } else { p - r }, p);
                for i in (first as usize..WINDOW).step_by(p as usize) {
                    composite[i] = true;
                }
            }
        };
        let mut chunks = self.sieve.groups.chunks_exact(INTERLEAVED);
        for chunk in chunks.by_ref() {
            let divisors = std::array::from_fn(|i| &chunk[i].divisor);
            for (group, r) in chunk
                .iter()
                .zip(WordDivisor::remainders::<INTERLEAVED>(divisors, words))
            {
                mark(composite, group, r);
            }
        }
        for group in chunks.remainder() {
            mark(composite, group, group.divisor.remainder(words));
        }
        // p - 1 must be prime to e: skip start + 2i = 1 (mod e).
        let r = WordDivisor::new(E.into()).remainder(words) as u32;
        let first = half_mod((E + 1 - r) % E, E);
        for i in (first as usize..WINDOW).step_by(E as usize) {
            composite[i] = true;
        }
        Ok(())
    }

    /// The first prime in the sieved window, if there is one below 2^bits.
    fn first_prime(&mut self) -> Result<Option<Bn>, CryptoError> {
        let paired = pairs_exponentiations(self.bits);
        let mut survivors = (0..WINDOW).filter(|&i| !self.composite[i]);
        loop {
            // The next candidate, and with it the one after where they are tested in pairs.
            let mut count = 0;
            for i in survivors.by_ref().take(if paired { 2 } else { 1 }) {
                let candidate = &self.candidates[count];
                candidate.copy_from(&self.start)?;
                // SAFETY: `candidate` is a live BIGNUM.
                check(unsafe { sys::BN_add_word(candidate.0, 2 * i as u64) })?;
                if candidate.bits() != self.bits {
                    break; // Ran past the top of the range.
                }
                count += 1;
            }
            let passes = match count {
                0 => return Ok(None),
                1 => [
                    passes_fermat_base_two(&self.candidates[0], &self.fermat, self.ctx)?,
                    false,
                ],
                _ => pass_fermat_base_two_paired(&self.candidates, &self.fermat, self.ctx)?,
            };
            self.fermat_tests += count;
            for (candidate, _) in self.candidates.iter().zip(passes).filter(|(_, p)| *p) {
                if passes_miller_rabin(candidate, self.ctx)? {
                    let prime = Bn::new()?;
                    prime.copy_from(candidate)?;
                    return Ok(Some(prime));
                }
            }
        }
    }
}

/// Whether AWS-LC's paired exponentiation (`BN_mod_exp_mont_consttime_x2`) runs its AVX-512
/// IFMA code on this CPU for moduli of `bits` bits: two constant-time exponentiations at
/// once, which took 0.58 ms a 2048-bit Fermat test against 1.16 ms for
/// [`mod_exp_base_two`] (0.093 against 0.173 ms at 1024 bits). Where that code does not run,
/// AWS-LC falls back to two general exponentiations (1.42 ms a test), slower than
/// [`mod_exp_base_two`], so pairs are tested only where the CPU has every extension AWS-LC
/// asks of it (`CRYPTO_is_AVX512IFMA_capable`: F, DQ, IFMA, BW and VL) and the size is one
/// it has code for.
fn pairs_exponentiations(bits: u32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static IFMA: LazyLock<bool> = LazyLock::new(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512ifma")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
        });
        matches!(bits, 1024 | 1536 | 2048) && *IFMA
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = bits;
        false
    }
}

/// results[i] = bases[i]^exponents[i] mod moduli[i] for two odd moduli of the same size, in
/// constant time (AWS-LC's `BN_mod_exp_mont_consttime_x2`). Its IFMA code runs only on
/// operands as wide as their modulus, word for word; on others it falls back to two
/// exponentiations, with the same results.
fn mod_exp_paired(
    results: [&Bn; 2],
    bases: [&Bn; 2],
    exponents: [&Bn; 2],
    moduli: [&Bn; 2],
    monts: [&Mont; 2],
    ctx: &Ctx,
) -> Result<(), CryptoError> {
    // SAFETY: every BIGNUM and context is live; results are distinct from the operands;
    // each Montgomery context is that of its modulus; the result is checked.
    check(unsafe {
        sys::BN_mod_exp_mont_consttime_x2(
            results[0].0,
            bases[0].0,
            exponents[0].0,
            moduli[0].0,
            monts[0].0,
            results[1].0,
            bases[1].0,
            exponents[1].0,
            moduli[1].0,
            monts[1].0,
            ctx.0,
        )
    })
}

/// The Miller-Rabin rounds for a candidate of `bits` bits: AWS-LC's table for key
/// generation (`BN_prime_checks_for_size`, from FIPS 186-4 F.1; 4 for a 2048-bit
/// candidate, 5 for a 1024-bit one), the count its `BN_prime_checks_for_generation` picks.
fn miller_rabin_rounds(bits: u32) -> u32 {
    match bits {
        3747.. => 3,
        1345.. => 4,
        476.. => 5,
        400.. => 6,
        347.. => 7,
        308.. => 8,
        55.. => 27,
        _ => 34,
    }
}

/// Squarings each Miller-Rabin round runs whatever the candidate (see [`passes_miller_rabin`]).
const MILLER_RABIN_SQUARINGS: u32 = 64;

/// Miller-Rabin (FIPS 186-4 C.3.1) for an odd candidate above 3, with
/// [`miller_rabin_rounds`] rounds, each with a base drawn uniformly from [2, n - 2].
///
/// Each round's exponentiation, whose exponent is the candidate's own bits, runs in constant
/// time (AWS-LC's `BN_mod_exp_mont_consttime`), as Go's key generation runs it: a variable-time
/// one lets a local observer of the cache read bits of the prime that becomes the key (the
/// flaw behind OpenSSL's CVE-2018-0737). The squarings that follow run a fixed number of
/// times, the results past the candidate's `a` (n - 1 = 2^a m) masked off, so the time does
/// not show `a` either (unless a > 64, which one prime in 2^64 has).
///
/// Not AWS-LC's own `BN_primality_test`: it blinds further, at least 16 rounds on a prime,
/// each followed by as many squarings as the candidate has bits, which cost a third of the
/// prime search (64.6 of 193 ms for a 2048-bit prime). Nor its
/// `BN_enhanced_miller_rabin_primality_test`, whose exponentiation is variable-time.
fn passes_miller_rabin(n: &Bn, ctx: &Ctx) -> Result<bool, CryptoError> {
    let mont = Mont::new(n, ctx)?;
    let (n1, m) = (Bn::new()?, Bn::new()?);
    let (bases, zs) = ([Bn::new()?, Bn::new()?], [Bn::new()?, Bn::new()?]);
    let (one_mont, n1_mont) = (Bn::from_word(1)?, Bn::new()?);
    n1.set_one_less(n)?;
    let (rounds, paired) = (
        miller_rabin_rounds(n.bits()),
        pairs_exponentiations(n.bits()),
    );
    // SAFETY: every BIGNUM, the context and the Montgomery context (of `n`) are live;
    // results never alias operands except where AWS-LC allows it (`BN_to_montgomery`,
    // `BN_mod_mul_montgomery` in place); each call's result is checked.
    unsafe {
        let a = sys::BN_count_low_zero_bits(n1.0) as u32;
        check(sys::BN_rshift(m.0, n1.0, a as _))?;
        check(sys::BN_to_montgomery(one_mont.0, one_mont.0, mont.0, ctx.0))?;
        check(sys::BN_to_montgomery(n1_mont.0, n1.0, mont.0, ctx.0))?;
        let equal = |x: &Bn, y: &Bn| sys::BN_equal_consttime(x.0, y.0) as u32;
        // Whether base^m (mod n) = z, in the Montgomery domain, witnesses nothing.
        let witnesses_nothing = |z: &Bn| -> Result<bool, CryptoError> {
            // z = 1 or z = n - 1: this base witnesses nothing.
            let mut possibly_prime = equal(z, &one_mont) | equal(z, &n1_mont);
            // Squaring j counts while j < a; z = n - 1 then means no witness. (Once z = 1
            // it stays 1 and never reaches n - 1: a witness.)
            for j in 1..a.max(MILLER_RABIN_SQUARINGS) {
                check(sys::BN_mod_mul_montgomery(z.0, z.0, z.0, mont.0, ctx.0))?;
                let counts = ((i64::from(j) - i64::from(a)) >> 63) as u32 & 1;
                possibly_prime |= counts & equal(z, &n1_mont);
            }
            Ok(possibly_prime != 0)
        };
        let mut done = 0;
        while done < rounds {
            // Two rounds at once where the paired exponentiation is fast.
            let at_once = if paired && rounds - done >= 2 { 2 } else { 1 };
            for base in &bases[..at_once] {
                check(sys::BN_rand_range_ex(base.0, 2, n1.0))?;
            }
            if at_once == 2 {
                let [z0, z1] = &zs;
                let [b0, b1] = &bases;
                mod_exp_paired([z0, z1], [b0, b1], [&m, &m], [n, n], [&mont, &mont], ctx)?;
            } else {
                check(sys::BN_mod_exp_mont_consttime(
                    zs[0].0, bases[0].0, m.0, n.0, ctx.0, mont.0,
                ))?;
            }
            for z in &zs[..at_once] {
                check(sys::BN_to_montgomery(z.0, z.0, mont.0, ctx.0))?;
                if !witnesses_nothing(z)? {
                    return Ok(false);
                }
            }
            done += at_once as u32;
        }
    }
    Ok(true)
}

/// Whether 2^(n-1) = 1 (mod n) for an odd n > 1: a cheap first filter, since nearly every
/// candidate that survives the sieve is composite and fails it. It only rejects; the
/// candidate that passes then gets the Miller-Rabin test ([`passes_miller_rabin`]).
fn passes_fermat_base_two(n: &Bn, scratch: &Pow2Scratch, ctx: &Ctx) -> Result<bool, CryptoError> {
    scratch.exponent.set_one_less(n)?;
    mod_exp_base_two(&scratch.result, &scratch.exponent, n, scratch, ctx)?;
    // SAFETY: `result` is a live BIGNUM.
    Ok(unsafe { sys::BN_is_one(scratch.result.0) } == 1)
}

/// [`passes_fermat_base_two`] for two odd candidates of the same size at once, on AWS-LC's
/// paired exponentiation (for where [`pairs_exponentiations`] holds).
fn pass_fermat_base_two_paired(
    n: &[Bn; 2],
    scratch: &Pow2Scratch,
    ctx: &Ctx,
) -> Result<[bool; 2], CryptoError> {
    let monts = [Mont::new(&n[0], ctx)?, Mont::new(&n[1], ctx)?];
    let [e0, e1] = &scratch.exponents;
    let [b0, b1] = &scratch.bases;
    let [r0, r1] = &scratch.results;
    for ((exponent, base), (n, mont)) in [(e0, b0), (e1, b1)].into_iter().zip(n.iter().zip(&monts))
    {
        exponent.set_one_less(n)?;
        // 2 as wide as n, which the IFMA code asks of the base (BN_set_word makes it one
        // word wide): taken into the Montgomery domain and back, AWS-LC's results there
        // have the modulus's width.
        base.copy_from(&scratch.two)?;
        // SAFETY: live BIGNUMs and the Montgomery context of `n`; both work in place.
        check(unsafe { sys::BN_to_montgomery(base.0, base.0, mont.0, ctx.0) })?;
        check(unsafe { sys::BN_from_montgomery(base.0, base.0, mont.0, ctx.0) })?;
    }
    let width = |n: &Bn| {
        // SAFETY: a live BIGNUM.
        unsafe { (*n.0).width }
    };
    debug_assert!(
        [b0, b1, e0, e1]
            .iter()
            .zip([&n[0], &n[1], &n[0], &n[1]])
            .all(|(x, n)| width(x) == width(n)),
        "the IFMA code runs only on operands as wide as their modulus"
    );
    mod_exp_paired(
        [r0, r1],
        [b0, b1],
        [e0, e1],
        [&n[0], &n[1]],
        [&monts[0], &monts[1]],
        ctx,
    )?;
    // SAFETY: live BIGNUMs.
    Ok(unsafe { [sys::BN_is_one(r0.0) == 1, sys::BN_is_one(r1.0) == 1] })
}

/// Scratch BIGNUMs of [`mod_exp_base_two`], [`passes_fermat_base_two`] and
/// [`pass_fermat_base_two_paired`], made once per prime search.
struct Pow2Scratch {
    exponent: Bn,
    result: Bn,
    square: [Bn; 2],
    limbs: std::cell::RefCell<Vec<sys::BN_ULONG>>,
    two: Bn,
    exponents: [Bn; 2],
    bases: [Bn; 2],
    results: [Bn; 2],
}

impl Pow2Scratch {
    fn new() -> Result<Pow2Scratch, CryptoError> {
        Ok(Pow2Scratch {
            exponent: Bn::new()?,
            result: Bn::new()?,
            square: [Bn::new()?, Bn::new()?],
            limbs: Default::default(),
            two: Bn::from_word(2)?,
            exponents: [Bn::new()?, Bn::new()?],
            bases: [Bn::new()?, Bn::new()?],
            results: [Bn::new()?, Bn::new()?],
        })
    }
}

/// An owned BN_MONT_CTX: a modulus with its Montgomery constants.
struct Mont(*mut sys::BN_MONT_CTX);

impl Mont {
    fn new(modulus: &Bn, ctx: &Ctx) -> Result<Mont, CryptoError> {
        // SAFETY: both are live; a null result (even or zero modulus) is checked.
        let mont = unsafe { sys::BN_MONT_CTX_new_for_modulus(modulus.0, ctx.0) };
        if mont.is_null() {
            return Err(failed());
        }
        Ok(Mont(mont))
    }
}

impl Drop for Mont {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_MONT_CTX_new_for_modulus and is freed once, here.
        unsafe { sys::BN_MONT_CTX_free(self.0) }
    }
}

/// 2^exponent mod an odd modulus > 1, into `result` (distinct from the operands).
///
/// Left to right over the exponent's bits in the Montgomery domain: per bit a squaring
/// (AWS-LC's Montgomery assembly, the squaring its general exponentiation uses) and a
/// doubling modulo the modulus, a shift and a subtraction kept or dropped by masks, which
/// a clear bit discards. No multiplication and no table: AWS-LC's `BN_mod_exp_mont_word`
/// hands a base of 2 to its general sliding window, which took twice the time (measured:
/// 2.56 against 1.34 ms for a 2048-bit modulus). The time taken does not depend on the
/// exponent's bits (on moduli of at least 2^64, where AWS-LC's assembly runs).
fn mod_exp_base_two(
    result: &Bn,
    exponent: &Bn,
    modulus: &Bn,
    scratch: &Pow2Scratch,
    ctx: &Ctx,
) -> Result<(), CryptoError> {
    let mont = Mont::new(modulus, ctx)?;
    let [mut x, mut y] = [&scratch.square[0], &scratch.square[1]];
    // SAFETY: all BIGNUMs, the Montgomery context and the BN_CTX are live; squares never
    // write to their operand (x and y alternate); each call's result is checked.
    unsafe {
        check(sys::BN_to_montgomery(
            x.0,
            sys::BN_value_one(),
            mont.0,
            ctx.0,
        ))?;
        for bit in (0..sys::BN_num_bits(exponent.0) as i32).rev() {
            check(sys::BN_mod_mul_montgomery(y.0, x.0, x.0, mont.0, ctx.0))?;
            std::mem::swap(&mut x, &mut y);
            let set = sys::BN_is_bit_set(exponent.0, bit) as sys::BN_ULONG;
            double_mod_if(set, x, modulus, &mut scratch.limbs.borrow_mut())?;
        }
        check(sys::BN_from_montgomery(result.0, x.0, mont.0, ctx.0))
    }
}

/// x = 2^bit * x mod m (bit 0 or 1), for 0 <= x < m with m odd.
fn double_mod_if(
    bit: sys::BN_ULONG,
    x: &Bn,
    m: &Bn,
    scratch: &mut Vec<sys::BN_ULONG>,
) -> Result<(), CryptoError> {
    // SAFETY: both are live BIGNUMs; a BIGNUM's `d` holds `width` valid words; x and m are
    // distinct, so the slices do not overlap.
    let (x_limbs, m_limbs) = unsafe {
        let (x_width, m_width) = ((*x.0).width, (*m.0).width);
        if x_width != m_width || x_width <= 0 {
            // Not word for word (only after AWS-LC's generic Montgomery code, on moduli
            // below 2^128): AWS-LC's own modular doubling, which may work in place.
            return match bit {
                0 => Ok(()),
                _ => check(sys::BN_mod_lshift1_quick(x.0, x.0, m.0)),
            };
        }
        (
            std::slice::from_raw_parts_mut((*x.0).d, x_width as usize),
            std::slice::from_raw_parts((*m.0).d, m_width as usize),
        )
    };
    double_mod_limbs_if(bit, x_limbs, m_limbs, scratch);
    Ok(())
}

/// x = 2^bit * x mod m (bit 0 or 1) on little-endian words of equal length, for x < m.
/// Branch-free: neither the bit nor x shows in the time taken.
fn double_mod_limbs_if(
    bit: sys::BN_ULONG,
    x: &mut [sys::BN_ULONG],
    m: &[sys::BN_ULONG],
    scratch: &mut Vec<sys::BN_ULONG>,
) {
    const TOP: u32 = sys::BN_ULONG::BITS - 1;
    let words = x.len();
    if scratch.len() != 2 * words {
        scratch.resize(2 * words, 0);
    }
    let (doubled, difference) = scratch.split_at_mut(words);
    // 2x, and 2x - m, which is 2x mod m when 2x >= m: when the shift carried out or the
    // subtraction did not borrow. 2x < 2m, so one subtraction reduces.
    let (mut shifted_out, mut borrow) = (0, 0);
    for (((d, r), &limb), &b) in doubled
        .iter_mut()
        .zip(difference.iter_mut())
        .zip(x.iter())
        .zip(m)
    {
        *d = (limb << 1) | shifted_out;
        shifted_out = limb >> TOP;
        let (v, b1) = d.overflowing_sub(b);
        let (v, b2) = v.overflowing_sub(borrow);
        *r = v;
        borrow = sys::BN_ULONG::from(b1 | b2);
    }
    let reduce = (shifted_out | (borrow ^ 1)).wrapping_neg();
    let double = bit.wrapping_neg();
    for ((limb, &d), &r) in x.iter_mut().zip(doubled.iter()).zip(difference.iter()) {
        let twice = (r & reduce) | (d & !reduce);
        *limb = (twice & double) | (*limb & !double);
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
    p1.set_one_less(&p)?;
    q1.set_one_less(&q)?;
    // SAFETY: every BIGNUM and the context are live and distinct where AWS-LC requires
    // (results never alias operands); each call's result is checked.
    unsafe {
        check(sys::BN_mul(n.0, p.0, q.0, ctx.0))?;
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
    #[cfg(target_os = "linux")]
    use std::time::Duration;

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
        assert!(groups.iter().all(|group| {
            group.divisor.modulus()
                == primes[group.first..group.first + group.len]
                    .iter()
                    .map(|&p| p as u64)
                    .product::<u64>()
        }));
        assert_eq!(groups.iter().map(|g| g.len).sum::<usize>(), primes.len());
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

    /// A random number of exactly `bits` bits, odd if asked.
    fn random(bits: u32, odd: bool) -> Bn {
        let bn = Bn::new().unwrap();
        let bottom = if odd {
            sys::BN_RAND_BOTTOM_ODD
        } else {
            sys::BN_RAND_BOTTOM_ANY
        };
        // SAFETY: `bn` is a live BIGNUM.
        check(unsafe { sys::BN_rand(bn.0, bits as _, sys::BN_RAND_TOP_ONE, bottom) }).unwrap();
        bn
    }

    fn from_hex(hex: &str) -> Bn {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        Bn::from_bytes(&bytes).unwrap()
    }

    /// 2^exponent mod modulus by AWS-LC's general exponentiation, which the Fermat test
    /// used before.
    fn aws_lc_pow2(exponent: &Bn, modulus: &Bn, ctx: &Ctx) -> Vec<u8> {
        let result = Bn::new().unwrap();
        // SAFETY: all live; the result is distinct from the operands.
        check(unsafe {
            sys::BN_mod_exp_mont_word(result.0, 2, exponent.0, modulus.0, ctx.0, null_mut())
        })
        .unwrap();
        result.bytes()
    }

    /// AWS-LC's blinded Miller-Rabin test, which the search used before.
    fn passes_blinded_miller_rabin(candidate: &Bn, ctx: &Ctx) -> bool {
        let mut is_prime: std::os::raw::c_int = 0;
        // SAFETY: `candidate` and `ctx` are live; no trial division and no callback.
        check(unsafe {
            sys::BN_primality_test(
                &mut is_prime,
                candidate.0,
                sys::BN_prime_checks_for_generation,
                ctx.0,
                0,
                null_mut(),
            )
        })
        .unwrap();
        is_prime == 1
    }

    fn pow2(exponent: &Bn, modulus: &Bn, ctx: &Ctx) -> Vec<u8> {
        let (result, scratch) = (Bn::new().unwrap(), Pow2Scratch::new().unwrap());
        mod_exp_base_two(&result, exponent, modulus, &scratch, ctx).unwrap();
        result.bytes()
    }

    #[test]
    fn base_two_exponentiation_matches_aws_lc() {
        let ctx = Ctx::new().unwrap();
        // Moduli of one word (AWS-LC's generic Montgomery code), of two (the smallest its
        // assembly takes), around word boundaries, and of the sizes keys use.
        for modulus_bits in [
            2, 5, 63, 64, 65, 127, 128, 129, 311, 1000, 1024, 2047, 2048, 2049, 4096,
        ] {
            for exponent_bits in [0, 1, 2, 17, 64, 65, modulus_bits, modulus_bits + 70] {
                for _ in 0..3 {
                    let modulus = random(modulus_bits, true);
                    let exponent = if exponent_bits == 0 {
                        Bn::from_word(0).unwrap()
                    } else {
                        random(exponent_bits, false)
                    };
                    assert_eq!(
                        pow2(&exponent, &modulus, &ctx),
                        aws_lc_pow2(&exponent, &modulus, &ctx),
                        "2^e mod m, {exponent_bits}-bit e, {modulus_bits}-bit m"
                    );
                }
            }
        }
    }

    #[test]
    fn half_mod_halves() {
        for m in [3u32, 5, 65537, 2_097_143, u32::MAX] {
            for t in [0, 1, 2, m / 2, m / 2 + 1, m - 2, m - 1] {
                let half = half_mod(t, m);
                assert!(half < m);
                assert_eq!(
                    2 * u64::from(half) % u64::from(m),
                    u64::from(t),
                    "{t} / 2 mod {m}"
                );
            }
        }
    }

    #[test]
    fn odd_primes_below_are_the_odd_primes() {
        for limit in [3, 4, 5, 10, 100, 65_536, 65_537, 200_003, 1 << 18] {
            let naive: Vec<u32> = (3..limit as u32)
                .step_by(2)
                .filter(|&n| {
                    (3..)
                        .step_by(2)
                        .take_while(|d| d * d <= n)
                        .all(|d| n % d != 0)
                })
                .collect();
            assert_eq!(odd_primes_below(limit), naive, "below {limit}");
        }
    }

    #[test]
    fn word_remainders_match_aws_lc() {
        let moduli = sieve_primes(2048)
            .groups
            .iter()
            .map(|g| g.divisor.modulus());
        // Every group product, the smallest and largest odd moduli, e and a few others.
        let moduli: Vec<u64> = moduli
            .chain([
                3,
                65537,
                (1 << 63) - 1,
                (1 << 62) + 1,
                0x5555_5555_5555_5555,
                1 << 32 | 1,
            ])
            .collect();
        let mut words = Vec::new();
        for bits in [1, 63, 64, 65, 128, 1024, 2047, 2048, 4096] {
            let n = random(bits, false);
            n.words_into(&mut words).unwrap();
            for &m in &moduli {
                // SAFETY: `n` is a live BIGNUM; m is not zero.
                let expected = unsafe { sys::BN_mod_word(n.0, m) };
                assert_eq!(
                    WordDivisor::new(m).remainder(&words),
                    expected,
                    "{bits} bits mod {m}"
                );
            }
        }
        // All ones: every reduction step at its largest.
        let all_ones = [u64::MAX; 32];
        let n = Bn::from_bytes(&[0xff; 256]).unwrap();
        for &m in &moduli {
            // SAFETY: `n` is a live BIGNUM; m is not zero.
            let expected = unsafe { sys::BN_mod_word(n.0, m) };
            assert_eq!(
                WordDivisor::new(m).remainder(&all_ones),
                expected,
                "2^2048 - 1 mod {m}"
            );
        }
        assert_eq!(WordDivisor::new(3).remainder(&[]), 0);
    }

    #[test]
    fn doubling_reduces_exactly_once() {
        let mut scratch = Vec::new();
        // m = 2^128 - 1 - 2^64 (two words); x = m - 1: 2x = 2m - 2 reduces to m - 2.
        let m = [u64::MAX, u64::MAX - 1];
        let mut x = [u64::MAX - 1, u64::MAX - 1];
        double_mod_limbs_if(1, &mut x, &m, &mut scratch);
        assert_eq!(x, [u64::MAX - 2, u64::MAX - 1]);
        // Below m/2 nothing is subtracted; from m/2 on m is, including when 2x carries out.
        let m = [0x8000_0000_0000_0001u64, 0x8000_0000_0000_0000];
        let mut x = [0x4000_0000_0000_0000u64, 0x4000_0000_0000_0000];
        double_mod_limbs_if(1, &mut x, &m, &mut scratch);
        assert_eq!(x, [0x8000_0000_0000_0000, 0x8000_0000_0000_0000]);
        double_mod_limbs_if(0, &mut x, &m, &mut scratch);
        assert_eq!(
            x,
            [0x8000_0000_0000_0000, 0x8000_0000_0000_0000],
            "bit 0: unchanged"
        );
        double_mod_limbs_if(1, &mut x, &m, &mut scratch);
        // 2^128 + 2^64 - m = 2^127 + 2^63 - 1.
        assert_eq!(x, [0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000]);
    }

    #[test]
    fn fermat_filter_passes_primes_and_rejects_composites_as_before() {
        let ctx = Ctx::new().unwrap();
        let scratch = Pow2Scratch::new().unwrap();
        let fermat = |n: &Bn| passes_fermat_base_two(n, &scratch, &ctx).unwrap();
        let mersenne = |k: u32| {
            let n = Bn::new().unwrap();
            // SAFETY: `n` is a live BIGNUM.
            unsafe {
                check(sys::BN_set_bit(n.0, k as _)).unwrap();
                check(sys::BN_sub_word(n.0, 1)).unwrap();
            }
            n
        };
        let generated = Bn::from_bytes(&random_key_prime(4096).unwrap()).unwrap();
        for prime in [
            Bn::from_word(5).unwrap(),
            Bn::from_word(65537).unwrap(),
            mersenne(61),
            mersenne(127),
            mersenne(521),
            generated,
        ] {
            assert!(fermat(&prime), "{:x?}", prime.bytes());
            assert!(passes_miller_rabin(&prime, &ctx).unwrap());
            assert!(passes_blinded_miller_rabin(&prime, &ctx));
        }
        // Base-2 pseudoprimes pass the filter, as they passed AWS-LC's exponentiation, and
        // Miller-Rabin rejects them: 341 = 11 * 31, the Carmichael number 561, 2047 = 23 * 89,
        // 2^64 + 1 and 2^67 - 1, and the Carmichael number (6k+1)(12k+1)(18k+1) with
        // k = 2^100 + 4 (three primes; 311 bits).
        let carmichael = from_hex(
            "5100000000000000000001fd064c00000000000000042a47ae3840000000000002e887d01c2351",
        );
        let mut fermat_two = mersenne(64);
        // SAFETY: `fermat_two` is a live BIGNUM.
        check(unsafe { sys::BN_add_word(fermat_two.0, 2) }).unwrap();
        for pseudoprime in [
            Bn::from_word(341).unwrap(),
            Bn::from_word(561).unwrap(),
            Bn::from_word(2047).unwrap(),
            std::mem::replace(&mut fermat_two, Bn::new().unwrap()),
            mersenne(67),
            carmichael,
        ] {
            assert!(fermat(&pseudoprime), "{:x?}", pseudoprime.bytes());
            assert!(!passes_miller_rabin(&pseudoprime, &ctx).unwrap());
            assert!(!passes_blinded_miller_rabin(&pseudoprime, &ctx));
        }
        for composite in [9, 15, 91, 65535, 3 * 65537] {
            assert!(!fermat(&Bn::from_word(composite).unwrap()), "{composite}");
        }
        // Random odd numbers: the filter agrees with AWS-LC's exponentiation.
        for bits in [64, 1024, 2048] {
            for _ in 0..20 {
                let n = random(bits, true);
                let exponent = Bn::new().unwrap();
                exponent.set_one_less(&n).unwrap();
                assert_eq!(fermat(&n), aws_lc_pow2(&exponent, &n, &ctx) == [1]);
            }
        }
    }

    #[test]
    fn paired_fermat_tests_agree_with_single_ones() {
        let ctx = Ctx::new().unwrap();
        let scratch = Pow2Scratch::new().unwrap();
        // The sizes the paired code serves (three moduli of the same size each), and one it
        // does not, where AWS-LC takes its general path.
        for (bits, key_bits) in [(1024, 2048), (1536, 3072), (2048, 4096), (768, 1536)] {
            let prime = || Bn::from_bytes(&random_key_prime(key_bits).unwrap()).unwrap();
            let pairs = [
                [random(bits, true), random(bits, true)],
                [prime(), random(bits, true)],
                [random(bits, true), prime()],
                [prime(), prime()],
            ];
            for pair in &pairs {
                let single =
                    [0, 1].map(|i| passes_fermat_base_two(&pair[i], &scratch, &ctx).unwrap());
                assert_eq!(
                    pass_fermat_base_two_paired(pair, &scratch, &ctx).unwrap(),
                    single,
                    "{bits} bits"
                );
            }
            for passes in pass_fermat_base_two_paired(&pairs[3], &scratch, &ctx).unwrap() {
                assert!(passes, "primes pass");
            }
        }
    }

    #[test]
    fn miller_rabin_agrees_with_aws_lcs_blinded_test() {
        let ctx = Ctx::new().unwrap();
        // Odd numbers of every kind the search meets or could: small, random (nearly all
        // composite), products of two primes (no small factor), and primes whose p - 1 has
        // more low zero bits than the fixed squarings (k * 2^80 + 1), and fewer.
        let mut numbers: Vec<Bn> = [5u32, 7, 9, 15, 25, 561, 1105, 65537, 65539]
            .iter()
            .map(|&n| Bn::from_word(n).unwrap())
            .collect();
        for bits in [64, 512, 1024, 2048] {
            numbers.extend((0..6).map(|_| random(bits, true)));
        }
        let product = |p: &[u8], q: &[u8]| {
            let n = Bn::new().unwrap();
            let (p, q) = (Bn::from_bytes(p).unwrap(), Bn::from_bytes(q).unwrap());
            // SAFETY: all live and distinct.
            check(unsafe { sys::BN_mul(n.0, p.0, q.0, ctx.0) }).unwrap();
            n
        };
        let (p, q) = (
            random_key_prime(1024).unwrap(),
            random_key_prime(1024).unwrap(),
        );
        numbers.push(product(&p, &q));
        numbers.push(Bn::from_bytes(&p).unwrap());
        // Primes of every size whose rounds run two at a time on a CPU with AVX-512 IFMA
        // ([`pairs_exponentiations`]), and of one size where they do not.
        for key_bits in [1536, 2048, 3072, 4096] {
            numbers.push(Bn::from_bytes(&random_key_prime(key_bits).unwrap()).unwrap());
        }
        let mut proth = 0;
        for k in 1..2000u32 {
            let n = Bn::from_word(k).unwrap();
            // SAFETY: `n` is live.
            unsafe {
                check(sys::BN_lshift(n.0, n.0, 80)).unwrap();
                check(sys::BN_add_word(n.0, 1)).unwrap();
            }
            if passes_blinded_miller_rabin(&n, &ctx) {
                proth += 1;
            }
            numbers.push(n);
        }
        assert!(proth > 0, "some k * 2^80 + 1 below k = 2000 is prime");
        for n in &numbers {
            assert_eq!(
                passes_miller_rabin(n, &ctx).unwrap(),
                passes_blinded_miller_rabin(n, &ctx),
                "{:x?}",
                n.bytes()
            );
        }
        assert_eq!(miller_rabin_rounds(2048), 4);
        assert_eq!(miller_rabin_rounds(1024), 5);
    }

    #[cfg(target_os = "linux")]
    /// CPU time of this thread, for the measurements below (`clock_gettime` of the C
    /// library std links; /proc's figures advance only at scheduler ticks).
    fn thread_cpu() -> Duration {
        #[repr(C)]
        struct Timespec {
            seconds: std::os::raw::c_long,
            nanoseconds: std::os::raw::c_long,
        }
        extern "C" {
            fn clock_gettime(
                clock: std::os::raw::c_int,
                time: *mut Timespec,
            ) -> std::os::raw::c_int;
        }
        const CLOCK_THREAD_CPUTIME_ID: std::os::raw::c_int = 3;
        let mut time = Timespec {
            seconds: 0,
            nanoseconds: 0,
        };
        // SAFETY: `time` is a live timespec that clock_gettime fills.
        assert_eq!(
            unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) },
            0
        );
        Duration::new(time.seconds as u64, time.nanoseconds as u32)
    }

    /// Mean CPU time per prime and where it goes, and the parts measured alone: the Fermat
    /// test against AWS-LC's exponentiation on the same 2048-bit numbers, alternating.
    /// RUDDER_PRIME_BENCH sets the number of primes (40), RUDDER_PRIME_BENCH_BITS their size
    /// (2048, the primes of a 4096-bit key).
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "a measurement: cargo test -p rudder-funcs --release time_prime_search -- --ignored --nocapture"]
    fn time_prime_search() {
        let primes: usize = std::env::var("RUDDER_PRIME_BENCH")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(40);
        let bits: u32 = std::env::var("RUDDER_PRIME_BENCH_BITS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2048);
        let ctx = Ctx::new().unwrap();
        let mut search = Search::new(bits, &ctx).unwrap();
        let (mut sieving, mut scanning, mut windows) = (Duration::ZERO, Duration::ZERO, 0);
        let (mut blinded, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..primes {
            loop {
                let t = thread_cpu();
                search.draw_and_sieve().unwrap();
                let u = thread_cpu();
                let found = search.first_prime().unwrap();
                scanning += thread_cpu() - u;
                sieving += u - t;
                windows += 1;
                if let Some(prime) = found {
                    // Both Miller-Rabin tests on the prime found, in alternating order.
                    let blinded_test = || {
                        let t = thread_cpu();
                        assert!(passes_blinded_miller_rabin(&prime, &ctx));
                        thread_cpu() - t
                    };
                    let blinded_first = windows % 2 == 0;
                    let early = blinded_first.then(blinded_test);
                    let t = thread_cpu();
                    assert!(passes_miller_rabin(&prime, &ctx).unwrap());
                    ours.push(thread_cpu() - t);
                    blinded.push(early.unwrap_or_else(blinded_test));
                    break;
                }
            }
        }
        let per_prime = |d: Duration| d.as_secs_f64() * 1e3 / primes as f64;
        println!(
            "{primes} primes of {bits} bits: {:.1} ms CPU each: sieve {:.2} ms ({windows} windows), \
             Fermat and Miller-Rabin {:.1} ms ({:.1} Fermat tests per prime)",
            per_prime(sieving + scanning),
            per_prime(sieving),
            per_prime(scanning),
            search.fermat_tests as f64 / primes as f64,
        );
        let median = |times: &mut Vec<Duration>| {
            times.sort();
            times[times.len() / 2].as_secs_f64() * 1e3
        };
        println!(
            "Miller-Rabin on a {bits}-bit prime, median CPU: {:.2} ms; blinded (BN_primality_test) {:.2} ms",
            median(&mut ours),
            median(&mut blinded),
        );
        let scratch = Pow2Scratch::new().unwrap();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..primes * 5 {
            let n = random(2048, true);
            let exponent = Bn::new().unwrap();
            exponent.set_one_less(&n).unwrap();
            let timed = |ours: bool| {
                let t = thread_cpu();
                let passes = if ours {
                    passes_fermat_base_two(&n, &scratch, &ctx).unwrap()
                } else {
                    aws_lc_pow2(&exponent, &n, &ctx) == [1]
                };
                (passes, thread_cpu() - t)
            };
            let ((a, t_ours), (b, t_theirs)) = if round % 2 == 0 {
                (timed(true), timed(false))
            } else {
                let theirs = timed(false);
                (timed(true), theirs)
            };
            assert_eq!(a, b);
            ours.push(t_ours);
            theirs.push(t_theirs);
        }
        let (sieve, start) = (sieve_primes(2048), random(2048, true));
        let mut words = Vec::new();
        start.words_into(&mut words).unwrap();
        let t = thread_cpu();
        let mut sum = 0u64;
        for _ in 0..20 {
            for g in sieve.groups.chunks_exact(INTERLEAVED) {
                let divisors = std::array::from_fn(|i| &g[i].divisor);
                let r = WordDivisor::remainders::<INTERLEAVED>(divisors, &words);
                sum = sum.wrapping_add(r.iter().sum());
            }
        }
        println!(
            "group residues of a 2048-bit start: {:.2} ms ({} groups; {sum})",
            (thread_cpu() - t).as_secs_f64() * 1e3 / 20.0,
            sieve.groups.len()
        );
        let t = thread_cpu();
        for _ in 0..20 {
            for group in &sieve.groups {
                // SAFETY: live BIGNUM, nonzero divisor.
                sum =
                    sum.wrapping_add(unsafe { sys::BN_mod_word(start.0, group.divisor.modulus()) });
            }
        }
        println!(
            "with BN_mod_word: {:.2} ms ({sum})",
            (thread_cpu() - t).as_secs_f64() * 1e3 / 20.0,
        );
        let t = thread_cpu();
        let limit = 1 << 21;
        let count = odd_primes_below(limit).len();
        println!(
            "odd primes alone: {:.2} ms ({count})",
            (thread_cpu() - t).as_secs_f64() * 1e3
        );
        let t = thread_cpu();
        let table = SievePrimes::below(limit);
        println!(
            "sieving primes below {limit}: {:.2} ms ({} primes)",
            (thread_cpu() - t).as_secs_f64() * 1e3,
            table.primes.len()
        );
        let (mut x, m) = ([0x1234_5678_9abc_def0u64; 32], [u64::MAX; 32]);
        let mut limbs = Vec::new();
        let t = thread_cpu();
        for bit in 0..100_000u64 {
            double_mod_limbs_if(bit & 1, &mut x, &m, &mut limbs);
        }
        println!(
            "2048-bit doubling: {:.0} ns",
            (thread_cpu() - t).as_secs_f64() * 1e9 / 100_000.0
        );
        let mut paired = Vec::new();
        for _ in 0..primes * 5 {
            let pair = [random(2048, true), random(2048, true)];
            let t = thread_cpu();
            pass_fermat_base_two_paired(&pair, &scratch, &ctx).unwrap();
            paired.push((thread_cpu() - t) / 2);
        }
        println!(
            "Fermat test of a 2048-bit number, median CPU: {:.3} ms; with BN_mod_exp_mont_word {:.3} ms; \
             in pairs {:.3} ms (paired code's fast path: {})",
            median(&mut ours),
            median(&mut theirs),
            median(&mut paired),
            pairs_exponentiations(2048),
        );
    }
}
