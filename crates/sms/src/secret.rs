//! Secrets in the configuration: the value itself, `{ env = "VAR" }` or
//! `{ file = "/run/secrets/x" }` (and, through the settings loader,
//! `LOKET_SMS__…__AUTH_TOKEN_FILE`). `Debug` never shows the value, so a logged
//! configuration cannot leak it.

use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Source {
    Value(String),
    Env { env: String },
    File { file: std::path::PathBuf },
}

/// A secret, read once when the configuration is loaded.
#[derive(Clone, Deserialize)]
#[serde(try_from = "Source")]
pub struct Secret(String);

impl TryFrom<Source> for Secret {
    type Error = String;
    fn try_from(s: Source) -> Result<Self, Self::Error> {
        match s {
            Source::Value(v) => Ok(Secret(v)),
            Source::Env { env } => std::env::var(&env)
                .map(Secret)
                .map_err(|_| format!("environment variable {env} (an SMS secret) is not set")),
            Source::File { file } => std::fs::read_to_string(&file)
                .map(|v| Secret(v.trim_end_matches(['\r', '\n']).to_owned()))
                .map_err(|e| format!("cannot read the SMS secret file {}: {e}", file.display())),
        }
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Constant-time comparison, so a wrong guess learns nothing from the timing.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_and_sources_resolve() {
        let s: Secret = serde_json::from_value(serde_json::json!("hunter2"))
            .unwrap_or_else(|_| Secret::new(""));
        assert_eq!(s.expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let dir = std::env::temp_dir().join(format!("loket-sms-secret-{}", std::process::id()));
        std::fs::write(&dir, "from-file\n").ok();
        let f: Result<Secret, _> = serde_json::from_value(serde_json::json!({"file": dir}));
        assert_eq!(
            f.map(|s| s.expose().to_owned()).ok().as_deref(),
            Some("from-file")
        );
        std::fs::remove_file(&dir).ok();
        let missing: Result<Secret, _> =
            serde_json::from_value(serde_json::json!({"env": "LOKET_SMS_TEST_UNSET_VARIABLE"}));
        assert!(missing.is_err());
    }
}
