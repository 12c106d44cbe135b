//! Text of attachments: plain text as is, PDF through `pdf-extract`.
//!
//! `pdf-extract` panics on some files, so it runs on the blocking pool under
//! `catch_unwind`, only for attachments up to [`ExtractLimits::max_bytes`], with a time
//! limit. A PDF that panics, fails or times out is indexed without its text (its name is
//! still indexed) and a warning is logged; it never stops the indexer. A timed-out
//! extraction cannot be cancelled: its blocking thread finishes (or panics) on its own,
//! and the size limit bounds how long that can take.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExtractLimits {
    /// Larger attachments are not read for text.
    pub max_bytes: usize,
    /// Longest time one PDF may take.
    pub timeout_ms: u64,
    /// Text beyond this many bytes per attachment is not indexed.
    pub max_text_bytes: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_bytes: 20 * 1024 * 1024,
            timeout_ms: 10_000,
            max_text_bytes: 2 * 1024 * 1024,
        }
    }
}

/// What kind of text extraction an attachment gets, decided from its metadata only.
pub fn wants_text(
    content_type: &str,
    filename: Option<&str>,
    size: i64,
    limits: &ExtractLimits,
) -> bool {
    if size < 0 || size as u64 > limits.max_bytes as u64 {
        return false;
    }
    kind(content_type, filename).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Pdf,
}

fn kind(content_type: &str, filename: Option<&str>) -> Option<Kind> {
    let ct = content_type.to_ascii_lowercase();
    let name = filename.unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/pdf") || name.ends_with(".pdf") {
        Some(Kind::Pdf)
    } else if ct.starts_with("text/plain") || ct.starts_with("text/csv") || name.ends_with(".txt") {
        Some(Kind::Text)
    } else {
        None
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Extracts the text of one attachment, or `None` when it has none we can read.
pub async fn attachment_text(
    content_type: &str,
    filename: Option<&str>,
    data: Vec<u8>,
    limits: &ExtractLimits,
) -> Option<String> {
    if data.len() > limits.max_bytes {
        return None;
    }
    match kind(content_type, filename)? {
        Kind::Text => Some(truncate(
            String::from_utf8_lossy(&data).into_owned(),
            limits.max_text_bytes,
        )),
        Kind::Pdf => {
            let job = tokio::task::spawn_blocking(move || pdf_text_blocking(&data));
            match tokio::time::timeout(Duration::from_millis(limits.timeout_ms), job).await {
                Ok(Ok(Some(t))) => Some(truncate(t, limits.max_text_bytes)),
                Ok(Ok(None)) => None,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "PDF text extraction task failed");
                    None
                }
                Err(_) => {
                    tracing::warn!(
                        timeout_ms = limits.timeout_ms,
                        "PDF text extraction timed out"
                    );
                    None
                }
            }
        }
    }
}

/// Synchronous PDF text extraction that never panics (for tests and the benchmark).
pub fn pdf_text_blocking(data: &[u8]) -> Option<String> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pdf_extract::extract_text_from_mem(data)
    }));
    match r {
        Ok(Ok(t)) => Some(t),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "PDF text extraction failed");
            None
        }
        Err(_) => {
            tracing::warn!("PDF text extraction panicked");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind("application/pdf", None), Some(Kind::Pdf));
        assert_eq!(
            kind("application/octet-stream", Some("Besluit.PDF")),
            Some(Kind::Pdf)
        );
        assert_eq!(kind("text/plain; charset=utf-8", None), Some(Kind::Text));
        assert_eq!(kind("image/png", Some("foto.png")), None);
        let l = ExtractLimits::default();
        assert!(!wants_text(
            "application/pdf",
            None,
            (l.max_bytes + 1) as i64,
            &l
        ));
    }

    #[test]
    fn garbage_pdf_does_not_panic() {
        assert_eq!(pdf_text_blocking(b"%PDF-1.4 this is not a pdf"), None);
        assert_eq!(pdf_text_blocking(b""), None);
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate("café".into(), 4), "caf");
    }
}
