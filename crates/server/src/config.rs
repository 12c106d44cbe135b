//! Settings: compiled-in `config/default.toml` < `--config FILE` < `LOKET_*` environment.
//! `LOKET_SECTION__KEY_FILE=/path` reads the value of `section.key` from a file (secrets).

use serde::Deserialize;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub audit: AuditSettings,
    pub demo: DemoSettings,
    pub telemetry: TelemetrySettings,
    #[serde(default)]
    pub webchat: loket_webchat::WebchatConfig,
    #[serde(default)]
    pub smtp: loket_mail::MailConfig,
    #[serde(default)]
    pub search: loket_search::SearchConfig,
    #[serde(default)]
    pub sms: loket_sms::SmsConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub bind: String,
    pub max_body_bytes: usize,
    pub shutdown_timeout_secs: u64,
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    pub key_file: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub log_format: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("cannot read {var} ({path}): {source}")]
    SecretFile {
        var: String,
        path: String,
        source: std::io::Error,
    },
}

impl Settings {
    /// Loads the layered settings. `file` is the `--config` argument.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut b = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).required(true));
        }
        let mut plain = std::collections::HashMap::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("LOKET_") else {
                continue;
            };
            if let Some(key) = rest.strip_suffix("_FILE") {
                let value =
                    std::fs::read_to_string(&v).map_err(|source| ConfigError::SecretFile {
                        var: k.clone(),
                        path: v.clone(),
                        source,
                    })?;
                plain.insert(
                    env_key(key),
                    value.trim_end_matches(['\n', '\r']).to_owned(),
                );
            } else {
                plain.entry(env_key(rest)).or_insert(v);
            }
        }
        for (k, v) in plain {
            b = b.set_override(k, v)?;
        }
        Ok(b.build()?.try_deserialize()?)
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            self.data_dir.join("loket.db").display().to_string()
        } else {
            self.database.url.clone()
        }
    }

    pub fn audit_key_path(&self) -> PathBuf {
        if self.audit.key_file.is_empty() {
            self.data_dir.join("audit.key")
        } else {
            PathBuf::from(&self.audit.key_file)
        }
    }

    /// The audit key: read from its file, created (random, 0600) on first start.
    pub fn load_or_create_audit_key(&self) -> std::io::Result<Vec<u8>> {
        let path = self.audit_key_path();
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(s.trim().as_bytes().to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut bytes = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
                let key = hex::encode(bytes);
                write_private(&path, key.as_bytes())?;
                Ok(key.into_bytes())
            }
            Err(e) => Err(e),
        }
    }
}

/// `HTTP__BIND` → `http.bind`, `DATA_DIR` → `data_dir`.
fn env_key(k: &str) -> String {
    k.split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// Writes a file readable only by its owner.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_file_then_env_then_secret_files() {
        let dir = std::env::temp_dir().join(format!("loket-cfg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("loket.toml");
        std::fs::write(
            &file,
            "[http]\nbind = \"0.0.0.0:9000\"\nmax_body_bytes = 10\n",
        )
        .expect("write");
        let secret = dir.join("db-url");
        std::fs::write(&secret, "postgres://x@db/loket\n").expect("write");

        let s = Settings::load_from(None, vec![]).expect("defaults");
        assert_eq!(s.http.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url(), "./data/loket.db");

        let s = Settings::load_from(Some(&file), vec![]).expect("file");
        assert_eq!(s.http.bind, "0.0.0.0:9000");

        let env = vec![
            ("LOKET_HTTP__BIND".to_owned(), "127.0.0.1:1234".to_owned()),
            ("LOKET_DATA_DIR".to_owned(), "/srv/loket".to_owned()),
            (
                "LOKET_DATABASE__URL_FILE".to_owned(),
                secret.display().to_string(),
            ),
            ("OTHER".to_owned(), "ignored".to_owned()),
        ];
        let s = Settings::load_from(Some(&file), env).expect("env");
        assert_eq!(s.http.bind, "127.0.0.1:1234");
        assert_eq!(s.http.max_body_bytes, 10);
        assert_eq!(s.data_dir, PathBuf::from("/srv/loket"));
        assert_eq!(s.database_url(), "postgres://x@db/loket");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn missing_secret_file_says_which() {
        let env = vec![(
            "LOKET_DATABASE__URL_FILE".to_owned(),
            "/nonexistent/x".to_owned(),
        )];
        let err = Settings::load_from(None, env).expect_err("must fail");
        assert!(err.to_string().contains("LOKET_DATABASE__URL_FILE"));
    }
}
