//! The hash of `u64` keys for the key-to-last-use maps on the per-reference path.
//!
//! std's SipHash costs about as much as the rest of a stack-distance update, and
//! keys are not attacker-chosen, so a folded multiply (the 64x64->128 product with
//! its halves XORed, as in foldhash and ahash) is enough. It mixes high key bits
//! (a TLB key's ASID and page size) into the low bits hashbrown indexes with,
//! which a plain multiply would not. The map's iteration order never reaches a
//! result, and the hash has no random seed, so runs are reproducible.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// An odd constant with well-spread bits (the 64-bit golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline(always)]
const fn folded_multiply(x: u64, y: u64) -> u64 {
    let product = (x as u128).wrapping_mul(y as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Hasher for `u64` keys; other writes (not used by this crate) are folded in a
/// byte at a time.
#[derive(Clone, Copy, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = folded_multiply(self.0 ^ u64::from(b), MULTIPLIER);
        }
    }

    #[inline(always)]
    fn write_u64(&mut self, key: u64) {
        self.0 = folded_multiply(self.0 ^ key, MULTIPLIER);
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map from reference keys.
pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;
