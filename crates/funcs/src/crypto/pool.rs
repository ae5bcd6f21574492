//! RSA keys generated on every core, ahead of need.
//!
//! A key's two primes cannot be searched for on two threads through AWS-LC's API, so the
//! cores work on whole keys instead: a request starts one generator per core (at most one
//! more than the keys wanted, counting one spare), takes the first key that is done, and
//! the others land as the spare that the next request of that size takes at once. RSA key
//! generation time varies widely from key to key, so the first of two finishes well before
//! the average one; a chart that makes several certificates gets them about twice as fast
//! on two cores. At most one spare per size is kept; a generator stops when it is there.

use super::error::CryptoError;
use std::sync::{Condvar, Mutex};

use super::keys::{RsaBits, RsaKey};

#[derive(Default)]
struct SizePool {
    ready: Vec<Result<RsaKey, CryptoError>>,
    /// Requests waiting for a key.
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

/// Keys kept ready beyond the ones requested.
const SPARES: usize = 1;

fn slot(bits: RsaBits) -> usize {
    match bits {
        RsaBits::B2048 => 0,
        RsaBits::B4096 => 1,
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Starts generators until the keys wanted (waiting requests plus the spare), or the cores,
/// are covered. Called with the pool locked.
fn start_generators(pool: &mut SizePool, bits: RsaBits) {
    let wanted = (pool.waiting + SPARES).saturating_sub(pool.ready.len());
    while pool.generators < wanted.min(cores()) {
        let spawned = std::thread::Builder::new()
            .name("rudder-rsa-keygen".into())
            .spawn(move || generator(bits));
        if spawned.is_err() {
            break;
        }
        pool.generators += 1;
    }
}

fn generator(bits: RsaBits) {
    loop {
        let key = RsaKey::generate(bits);
        let mut sizes = POOL.sizes.lock().unwrap_or_else(|e| e.into_inner());
        let pool = &mut sizes[slot(bits)];
        pool.ready.push(key);
        POOL.done.notify_all();
        // The keys ready and those the other generators (all but this one) are making
        // cover the demand.
        if pool.ready.len() + pool.generators > pool.waiting + SPARES {
            pool.generators -= 1;
            return;
        }
    }
}

/// An RSA key of `bits`: the spare if one is ready, else the first one generated.
pub(crate) fn rsa_key(bits: RsaBits) -> Result<RsaKey, CryptoError> {
    let mut sizes = POOL.sizes.lock().unwrap_or_else(|e| e.into_inner());
    sizes[slot(bits)].waiting += 1;
    start_generators(&mut sizes[slot(bits)], bits);
    if sizes[slot(bits)].generators == 0 && sizes[slot(bits)].ready.is_empty() {
        // No thread could be started: generate here.
        sizes[slot(bits)].waiting -= 1;
        drop(sizes);
        return RsaKey::generate(bits);
    }
    while sizes[slot(bits)].ready.is_empty() {
        sizes = POOL.done.wait(sizes).unwrap_or_else(|e| e.into_inner());
    }
    let pool = &mut sizes[slot(bits)];
    pool.waiting -= 1;
    let key = pool.ready.remove(0);
    start_generators(pool, bits);
    key
}
