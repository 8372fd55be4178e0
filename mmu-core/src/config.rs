//! Config validation errors, shared by every crate that owns a config struct.

use core::fmt;

/// A config field that breaks a rule: the field's path and the rule, with values.
///
/// Model crates build it with the field's own name; each enclosing struct prefixes
/// its own field name with [`InvalidField::within`], so the loader can report the
/// full path (`tlb.l1[0].ways`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidField {
    /// Dotted path of the field, e.g. `tlb.l1[0].ways`.
    pub field: String,
    /// The rule that was broken, with the values involved.
    pub message: String,
}

impl InvalidField {
    /// A broken rule on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
    /// The same error, seen from the struct that holds `parent`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for InvalidField {}

/// Whether `x` is a power of two (zero is not).
pub const fn is_power_of_two(x: u64) -> bool {
    x != 0 && x & (x - 1) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compose_outward() {
        let e = InvalidField::new("ways", "must divide entries").within("[0]").within("l1").within("tlb");
        assert_eq!(e.field, "tlb.l1[0].ways");
        assert_eq!(e.to_string(), "field `tlb.l1[0].ways`: must divide entries");
    }
}
