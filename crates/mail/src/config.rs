//! Process settings of the email channel: the `[smtp]` section of the configuration.
//! Tenants' addresses, domains and IMAP mailboxes live in the database (channel settings).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `[smtp]` configuration section (`LOKET_SMTP__BIND`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// Switch the whole email channel off (no listener, no pollers, no sender).
    pub enabled: bool,
    /// Address of the SMTP receiver. Default `127.0.0.1:2525`.
    pub bind: String,
    /// Name in the greeting and EHLO answer.
    pub hostname: String,
    /// Largest message accepted (advertised as `SIZE`); default 25 MB.
    pub max_message_bytes: usize,
    /// Most recipients in one transaction.
    pub max_recipients: usize,
    /// Idle time-out per command, seconds.
    pub command_timeout_secs: u64,
    /// Most simultaneous SMTP connections.
    pub max_connections: usize,
    /// PEM certificate chain and key for STARTTLS; both or neither.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Seconds between two IMAP polls when the server has no IDLE (and the longest IDLE).
    pub imap_poll_secs: u64,
    /// The relay outbound replies are sent through. `None`: replies stay queued.
    pub relay: Option<RelayConfig>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: "127.0.0.1:2525".to_owned(),
            hostname: "localhost".to_owned(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
            command_timeout_secs: 300,
            max_connections: 256,
            tls_cert_file: None,
            tls_key_file: None,
            imap_poll_secs: 60,
            relay: None,
        }
    }
}

/// TLS on the connection to the relay (and to an IMAP server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// STARTTLS, required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 / 993).
    Implicit,
    /// Plain text; for a relay on localhost only.
    None,
}

/// Outbound relay (`[smtp.relay]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    /// File holding the password (secrets never live in the config file).
    pub password_file: Option<PathBuf>,
    /// Extra trusted root certificate(s) for the relay (PEM), e.g. the municipality's
    /// own CA; the system roots are trusted too.
    pub tls_ca_file: Option<PathBuf>,
    /// Seconds before a send attempt is abandoned.
    pub timeout_secs: u64,
    /// Attempts before a temporary failure becomes permanent.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, capped at 15 minutes.
    pub retry_base_secs: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 587,
            tls: TlsMode::Starttls,
            username: None,
            password_file: None,
            tls_ca_file: None,
            timeout_secs: 60,
            max_attempts: 8,
            retry_base_secs: 30,
        }
    }
}
