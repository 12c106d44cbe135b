use crate::{TenantId, Timestamp};
use serde::{Deserialize, Serialize};

/// One municipality. Every row and every index belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    /// Short, URL-safe name used in the widget tag and the CLI (`den-haag`).
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// A slug is 2–63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
pub fn is_valid_slug(slug: &str) -> bool {
    let len_ok = (2..=63).contains(&slug.len());
    let chars_ok = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    len_ok && chars_ok && !slug.starts_with('-') && !slug.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("den-haag"));
        assert!(is_valid_slug("demo"));
        assert!(!is_valid_slug("Den Haag"));
        assert!(!is_valid_slug("-x"));
        assert!(!is_valid_slug("a"));
    }
}
