//! RSA primes searched for on every core, ahead of need.
//!
//! A key needs two primes, and each prime search takes a widely varying time. Generator
//! threads (one per core at most) search for primes of one size and hand each one found
//! to whoever waits; a key takes the first two found, whichever threads found them. On two
//! cores one key then takes on average about as long as one prime search (the second prime
//! arrives when either thread finds its next one), where searching for the key's two primes
//! one after the other takes two, and racing whole keys on both cores one and a quarter.
//! A chart that makes several certificates keeps every core busy. One prime beyond the
//! demand is kept in the making as a spare; a generator stops when the primes found and
//! those being searched for cover the demand.

use std::sync::{Condvar, Mutex};

use super::error::CryptoError;
use super::keys::{RsaBits, RsaKey};
use super::primes::random_key_prime;

#[derive(Default)]
struct SizePool {
    ready: Vec<Result<Vec<u8>, CryptoError>>,
    /// Primes requested and not yet handed out.
    waiting: usize,
    /// Generator threads running.
    generators: usize,
}

struct Pool {
    sizes: Mutex<[SizePool; 2]>,
    done: Condvar,
}

static POOL: Pool = Pool {
    sizes: Mutex::new([
        SizePool {
            ready: Vec::new(),
            waiting: 0,
            generators: 0,
        },
        SizePool {
            ready: Vec::new(),
            waiting: 0,
            generators: 0,
        },
    ]),
    done: Condvar::new(),
};

/// Primes kept in the making beyond the ones requested.
const SPARES: usize = 1;

fn slot(bits: RsaBits) -> usize {
    match bits {
        RsaBits::B2048 => 0,
        RsaBits::B4096 => 1,
    }
}

/// Starts generators until the primes wanted (requested plus the spare), or the cores, are
/// covered. Called with the pool locked.
fn start_generators(pool: &mut SizePool, bits: RsaBits) {
    let wanted = (pool.waiting + SPARES).saturating_sub(pool.ready.len());
    while pool.generators < wanted.min(rudder_value::threads::cores()) {
        let spawned = std::thread::Builder::new()
            .name("rudder-rsa-primes".into())
            .spawn(move || generator(bits));
        if spawned.is_err() {
            break;
        }
        pool.generators += 1;
    }
}

fn generator(bits: RsaBits) {
    loop {
        let prime = random_key_prime(bits.bits());
        let mut sizes = POOL.sizes.lock().unwrap_or_else(|e| e.into_inner());
        let pool = &mut sizes[slot(bits)];
        pool.ready.push(prime);
        POOL.done.notify_all();
        // The primes ready and those the other generators (all but this one) are searching
        // for cover the demand.
        if pool.ready.len() + pool.generators > pool.waiting + SPARES {
            pool.generators -= 1;
            return;
        }
    }
}

/// Counts `count` more primes of `bits` as requested, and starts the generators to find them.
fn request(bits: RsaBits, count: usize) {
    let mut sizes = POOL.sizes.lock().unwrap_or_else(|e| e.into_inner());
    let pool = &mut sizes[slot(bits)];
    pool.waiting += count;
    start_generators(pool, bits);
}

/// One of the primes [`request`]ed: a spare if one is ready, else the next one found.
fn take_prime(bits: RsaBits) -> Result<Vec<u8>, CryptoError> {
    let mut sizes = POOL.sizes.lock().unwrap_or_else(|e| e.into_inner());
    if sizes[slot(bits)].generators == 0 && sizes[slot(bits)].ready.is_empty() {
        // No thread could be started: search here.
        sizes[slot(bits)].waiting -= 1;
        drop(sizes);
        return random_key_prime(bits.bits());
    }
    while sizes[slot(bits)].ready.is_empty() {
        sizes = POOL.done.wait(sizes).unwrap_or_else(|e| e.into_inner());
    }
    let pool = &mut sizes[slot(bits)];
    pool.waiting -= 1;
    let prime = pool.ready.remove(0);
    start_generators(pool, bits);
    prime
}

/// A new RSA key of `bits` from the first two primes found.
pub(crate) fn rsa_key(bits: RsaBits) -> Result<RsaKey, CryptoError> {
    // Both primes are asked for at once, so that the search for the second runs on another
    // core while the first is still being searched for.
    request(bits, 2);
    let p = take_prime(bits);
    let q = take_prime(bits);
    let (p, mut q) = (p?, q?);
    while q == p {
        request(bits, 1);
        q = take_prime(bits)?;
    }
    RsaKey::from_primes(bits, &p, &q)
}
