//! Errors of the email channel.

/// Everything that can go wrong in loket-mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(String),
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("outbound SMTP: {0}")]
    Outbound(String),
    #[error("building the outbound message: {0}")]
    Build(String),
}

impl MailError {
    pub(crate) fn store(e: impl std::fmt::Display) -> Self {
        MailError::Store(e.to_string())
    }
}
