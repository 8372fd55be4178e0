//! Slow, obvious simulators: the oracles the one-pass results must equal.
//!
//! Each simulates one cache size at a time, straight from the definition of its
//! policy, with no stack, no inclusion argument and no shared state.
#![allow(dead_code)] // Each test file uses its own subset.

/// A set-associative LRU cache of `sets` x `ways`, indexed like mmu-emu's TLB
/// (`vpn & (sets - 1)` for a power-of-two set count; modulo otherwise). Every
/// entry remembers when it was last used; a miss in a full set replaces the
/// least recently used entry. Returns the misses of `(key, vpn)` references.
pub fn lru_cache_misses(references: &[(u64, u64)], sets: u64, ways: u64) -> u64 {
    if ways == 0 {
        return references.len() as u64;
    }
    // Per set: (key, last use).
    let mut contents: Vec<Vec<(u64, u64)>> = vec![Vec::new(); sets as usize];
    let mut misses = 0;
    for (now, &(key, vpn)) in references.iter().enumerate() {
        let now = now as u64;
        let set = &mut contents[(vpn % sets) as usize];
        if let Some(entry) = set.iter_mut().find(|(k, _)| *k == key) {
            entry.1 = now;
            continue;
        }
        misses += 1;
        if (set.len() as u64) < ways {
            set.push((key, now));
        } else {
            let lru = (0..set.len()).min_by_key(|&i| set[i].1).expect("a full set has entries");
            set[lru] = (key, now);
        }
    }
    misses
}

/// LRU page faults with `frames` frames: a fully associative LRU cache.
pub fn lru_page_faults(references: &[u64], frames: u64) -> u64 {
    let pairs: Vec<(u64, u64)> = references.iter().map(|&k| (k, 0)).collect();
    lru_cache_misses(&pairs, 1, frames)
}

/// Belady's OPT with `frames` frames: on a fault with every frame full, evict the
/// resident page whose next use is farthest away, a page never used again first
/// (ties among those: the first found; any choice gives the same count). The next
/// use is found by scanning the rest of the string, as the definition reads.
pub fn opt_page_faults(references: &[u64], frames: u64) -> u64 {
    opt_page_faults_after(references, 0, frames)
}

/// FIFO page faults with `frames` frames: evict the page loaded longest ago. Not a
/// stack algorithm (Belady's anomaly), so only an oracle for the textbook strings.
pub fn fifo_page_faults(references: &[u64], frames: u64) -> u64 {
    let mut resident: std::collections::VecDeque<u64> = Default::default();
    let mut faults = 0;
    for &page in references {
        if resident.contains(&page) {
            continue;
        }
        faults += 1;
        if frames == 0 {
            continue;
        }
        if resident.len() as u64 == frames {
            resident.pop_front();
        }
        resident.push_back(page);
    }
    faults
}

/// Mattson's list: every reference's LRU stack distance by searching a list.
pub fn lru_stack_distances(keys: &[u64]) -> Vec<Option<u64>> {
    let mut list: Vec<u64> = Vec::new();
    keys.iter()
        .map(|&k| {
            let found = list.iter().position(|&x| x == k);
            if let Some(p) = found {
                list.remove(p);
            }
            list.insert(0, k);
            found.map(|p| p as u64)
        })
        .collect()
}

/// LRU page faults with `frames` frames among the references after the first
/// `warmup` (which fill the frames uncounted): a list kept most recent first.
pub fn lru_page_faults_after(references: &[u64], warmup: usize, frames: u64) -> u64 {
    let mut resident: Vec<u64> = Vec::new();
    let mut faults = 0;
    for (now, &page) in references.iter().enumerate() {
        match resident.iter().position(|&p| p == page) {
            Some(i) => {
                resident.remove(i);
            }
            None => {
                faults += u64::from(now >= warmup);
                if resident.len() as u64 == frames {
                    resident.pop();
                }
            }
        }
        if frames > 0 {
            resident.insert(0, page);
        }
    }
    faults
}

/// [`opt_page_faults`] among the references after the first `warmup`, the
/// prefix's faults uncounted (OPT's choices in the prefix look at the whole
/// string, as a run's OPT replacer does).
pub fn opt_page_faults_after(references: &[u64], warmup: usize, frames: u64) -> u64 {
    if frames == 0 {
        return references.len().saturating_sub(warmup) as u64;
    }
    let mut resident: Vec<u64> = Vec::new();
    let mut faults = 0;
    for (now, &page) in references.iter().enumerate() {
        if resident.contains(&page) {
            continue;
        }
        faults += u64::from(now >= warmup);
        if (resident.len() as u64) < frames {
            resident.push(page);
            continue;
        }
        let next_use =
            |p: u64| references[now + 1..].iter().position(|&r| r == p).map_or(usize::MAX, |d| now + 1 + d);
        let victim = (0..resident.len()).max_by_key(|&i| (next_use(resident[i]), std::cmp::Reverse(i)));
        resident[victim.expect("a full memory has pages")] = page;
    }
    faults
}
