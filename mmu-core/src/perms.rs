//! Effective permissions of a translation, in one format-independent shape so the
//! TLB can cache them and re-check an access exactly as the walker did.

use core::fmt;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Read, write, execute and user-accessible bits, as a PTE grants them.
///
/// Written in configs as a string in `ls` order: `"rwx"`, `"r-x"`, `"rw-"`, with an
/// optional trailing `u`/`-` for user accessibility where it matters (`"rw-u"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms(u8);

impl Perms {
    /// Loads permitted.
    pub const R: Perms = Perms(1 << 0);
    /// Stores permitted.
    pub const W: Perms = Perms(1 << 1);
    /// Instruction fetches permitted.
    pub const X: Perms = Perms(1 << 2);
    /// Accessible from user mode.
    pub const U: Perms = Perms(1 << 3);
    /// No permission at all.
    pub const NONE: Perms = Perms(0);
    /// Every permission (the neutral element of `intersect`).
    pub const ALL: Perms = Perms(0b1111);

    /// The four bits (R 1, W 2, X 4, U 8) as a number below 16: an index into
    /// tables precomputed over every permission set.
    #[inline(always)]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The permission set of [`Perms::bits`] `bits` (the bits above the four ignored).
    pub const fn from_bits(bits: u8) -> Perms {
        Perms(bits & Perms::ALL.0)
    }

    /// The union of two permission sets.
    #[must_use]
    pub const fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }
    /// The intersection of two permission sets (IA-32 ANDs PDE and PTE rights).
    #[must_use]
    pub const fn intersect(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }
    /// Whether every permission of `other` is in `self`.
    pub const fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }
    /// The set without the permissions of `other`.
    #[must_use]
    pub const fn without(self, other: Perms) -> Perms {
        Perms(self.0 & !other.0)
    }
    /// Loads permitted.
    pub const fn can_read(self) -> bool {
        self.contains(Perms::R)
    }
    /// Stores permitted.
    pub const fn can_write(self) -> bool {
        self.contains(Perms::W)
    }
    /// Fetches permitted.
    pub const fn can_execute(self) -> bool {
        self.contains(Perms::X)
    }
    /// User-accessible.
    pub const fn is_user(self) -> bool {
        self.contains(Perms::U)
    }
    /// Parses `"rwx"`-style text; `None` if it is not of that form.
    pub fn parse(text: &str) -> Option<Perms> {
        let b = text.as_bytes();
        if b.len() != 3 && b.len() != 4 {
            return None;
        }
        let mut p = Perms::NONE;
        let letters = [(b'r', Perms::R), (b'w', Perms::W), (b'x', Perms::X), (b'u', Perms::U)];
        for (&c, (letter, bit)) in b.iter().zip(letters) {
            if c == letter {
                p = p.union(bit);
            } else if c != b'-' {
                return None;
            }
        }
        Some(p)
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |p: Perms, ch: char| if self.contains(p) { ch } else { '-' };
        write!(f, "{}{}{}", c(Perms::R, 'r'), c(Perms::W, 'w'), c(Perms::X, 'x'))?;
        if self.is_user() {
            write!(f, "u")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Perms({self})")
    }
}

impl Serialize for Perms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Perms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PermsVisitor;
        impl Visitor<'_> for PermsVisitor {
            type Value = Perms;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission string such as \"rw-\" or \"r-x\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Perms, E> {
                Perms::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(PermsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for text in ["---", "r--", "rw-", "r-x", "rwx", "--x", "rwxu", "r--u"] {
            assert_eq!(Perms::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Perms::parse("rw-"), Some(Perms::R.union(Perms::W)));
        assert_eq!(Perms::parse("r-x").unwrap().to_string(), "r-x");
        assert_eq!(Perms::parse("rwxu").unwrap().to_string(), "rwxu");
        assert_eq!(Perms::parse("wr-"), None);
        assert_eq!(Perms::parse("rw"), None);
    }
}
