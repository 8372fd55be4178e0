//! TLB configs: one level's geometry and policy, and the hierarchy they form.

use mmu_core::Cycles;
use mmu_core::config::{InvalidField, is_power_of_two};
use serde::{Deserialize, Serialize};

/// Which accesses a TLB serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Serves {
    /// Instruction fetches only (an L1 iTLB).
    Instructions,
    /// Loads and stores only (an L1 dTLB).
    Data,
    /// Everything (a unified TLB).
    Both,
}

impl Serves {
    /// Whether an access of this side (`is_fetch`) goes to this TLB.
    pub const fn serves(self, is_fetch: bool) -> bool {
        match self {
            Serves::Instructions => is_fetch,
            Serves::Data => !is_fetch,
            Serves::Both => true,
        }
    }
}

/// How a set picks the entry to evict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Replacement {
    /// Least recently used, exactly.
    #[default]
    Lru,
}

/// One TLB. Owned by `tlb`; composed into the machine config by cpu-sim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbConfig {
    /// The name the report uses for this TLB (`tlb.<name>.hits`).
    pub name: String,
    /// Which accesses it serves.
    pub serves: Serves,
    /// Total entries; a power of two.
    pub entries: u32,
    /// Ways per set: 1 = direct-mapped, `entries` = fully associative.
    pub ways: u32,
    /// Cycles charged for a lookup, hit or miss.
    pub hit_latency: Cycles,
    /// Replacement policy (default `Lru`).
    #[serde(default)]
    pub replacement: Replacement,
}

impl TlbConfig {
    /// Checks the geometry.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(InvalidField::new(
                "name",
                format!("must be non-empty letters, digits, `_` or `-`, got {:?}", self.name),
            ));
        }
        if !is_power_of_two(u64::from(self.entries)) {
            return Err(InvalidField::new(
                "entries",
                format!("must be a power of two, got {}", self.entries),
            ));
        }
        if self.ways == 0 || self.ways > self.entries || self.entries % self.ways != 0 {
            return Err(InvalidField::new(
                "ways",
                format!(
                    "`ways` ({}) must be between 1 and `entries` and divide `entries` ({})",
                    self.ways, self.entries
                ),
            ));
        }
        let sets = self.entries / self.ways;
        if !is_power_of_two(u64::from(sets)) {
            return Err(InvalidField::new(
                "ways",
                format!(
                    "`entries / ways` = {sets} sets must be a power of two (entries {}, ways {})",
                    self.entries, self.ways
                ),
            ));
        }
        Ok(())
    }
}

/// The TLB hierarchy: L1 TLBs looked up in parallel, then an optional unified L2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbHierarchyConfig {
    /// First-level TLBs; at most one serves each side.
    pub l1: Vec<TlbConfig>,
    /// Optional second-level TLB, looked up after an L1 miss.
    #[serde(default)]
    pub l2: Option<TlbConfig>,
}

impl TlbHierarchyConfig {
    /// Checks every level and that names are unique.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self) -> Result<(), InvalidField> {
        for (i, tlb) in self.l1.iter().enumerate() {
            tlb.validate().map_err(|e| e.within(&format!("[{i}]")).within("l1"))?;
        }
        if let Some(l2) = &self.l2 {
            l2.validate().map_err(|e| e.within("l2"))?;
        }
        let mut names: Vec<&str> = self.levels().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(InvalidField::new(
                "l1",
                format!("TLB name {:?} is used twice; names key the report", w[0]),
            ));
        }
        for is_fetch in [true, false] {
            let serving: Vec<&str> =
                self.l1.iter().filter(|t| t.serves.serves(is_fetch)).map(|t| t.name.as_str()).collect();
            if serving.len() > 1 {
                let side = if is_fetch { "instruction fetches" } else { "data accesses" };
                return Err(InvalidField::new(
                    "l1",
                    format!("{} all serve {side}; at most one L1 TLB may", serving.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Every configured TLB, L1s first, in config order.
    pub fn levels(&self) -> impl Iterator<Item = &TlbConfig> {
        self.l1.iter().chain(self.l2.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlb(entries: u32, ways: u32) -> TlbConfig {
        TlbConfig {
            name: "l1d".into(),
            serves: Serves::Data,
            entries,
            ways,
            hit_latency: Cycles::new(1),
            replacement: Replacement::Lru,
        }
    }

    #[test]
    fn geometry_rules() {
        assert!(tlb(64, 4).validate().is_ok());
        assert!(tlb(64, 64).validate().is_ok());
        assert!(tlb(64, 1).validate().is_ok());
        assert_eq!(tlb(0, 1).validate().unwrap_err().field, "entries");
        assert_eq!(tlb(48, 4).validate().unwrap_err().field, "entries");
        let e = tlb(32, 3).validate().unwrap_err();
        assert_eq!(e.field, "ways");
        assert!(e.message.contains("(3)") && e.message.contains("(32)"), "{}", e.message);
        assert_eq!(tlb(32, 0).validate().unwrap_err().field, "ways");
        assert_eq!(tlb(64, 128).validate().unwrap_err().field, "ways");
    }

    #[test]
    fn hierarchy_paths_and_names() {
        let h = TlbHierarchyConfig { l1: vec![tlb(64, 4), tlb(16, 3)], l2: None };
        assert_eq!(h.validate().unwrap_err().field, "l1[1].ways");
        let mut dup = tlb(64, 4);
        dup.serves = Serves::Instructions;
        let h = TlbHierarchyConfig { l1: vec![tlb(64, 4), dup], l2: None };
        assert!(h.validate().unwrap_err().message.contains("used twice"));
        let h = TlbHierarchyConfig {
            l1: vec![tlb(64, 4)],
            l2: Some(TlbConfig { name: "l2".into(), ..tlb(512, 5) }),
        };
        assert_eq!(h.validate().unwrap_err().field, "l2.ways");
    }
}
