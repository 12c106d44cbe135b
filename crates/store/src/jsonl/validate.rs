//! The validation pass of an import: every line decoded and checked before anything is
//! written, on every core.

use super::*;

/// A validated line, decoded.
pub(super) struct Decoded {
    pub line: JsonlMessage,
    pub raw: Vec<u8>,
    pub attachments: Vec<Vec<u8>>,
    pub originals: Vec<Option<Vec<u8>>>,
}

pub(super) fn decode_line(lineno: usize, text: &str) -> std::result::Result<Decoded, ImportError> {
    let err = |message: String| ImportError {
        line: lineno,
        message,
    };
    let line: JsonlMessage =
        serde_json::from_str(text).map_err(|e| err(format!("not a valid message object: {e}")))?;
    if line.v != FORMAT_VERSION {
        return Err(err(format!(
            "format version {} is not supported (expected {FORMAT_VERSION})",
            line.v
        )));
    }
    let raw = B64
        .decode(line.raw.as_bytes())
        .map_err(|e| err(format!("`raw` is not valid base64: {e}")))?;
    let sha = loket_core::sha256_hex(&raw);
    if sha != line.raw_sha256 {
        return Err(err(format!(
            "`raw` hashes to {sha}, but `raw_sha256` says {}",
            line.raw_sha256
        )));
    }
    let mut attachments = Vec::new();
    for (i, a) in line.attachments.iter().enumerate() {
        let data = B64
            .decode(a.data.as_bytes())
            .map_err(|e| err(format!("attachment {i}: `data` is not valid base64: {e}")))?;
        if loket_core::sha256_hex(&data) != a.sha256 {
            return Err(err(format!(
                "attachment {i}: data does not match its sha256"
            )));
        }
        attachments.push(data);
    }
    let mut originals = Vec::new();
    for (i, e) in line.events.iter().enumerate() {
        e.status
            .parse::<loket_core::DeliveryStatus>()
            .map_err(|x| err(format!("event {i}: {x}")))?;
        let original = match &e.original {
            Some(o) => {
                let bytes = B64
                    .decode(o.as_bytes())
                    .map_err(|x| err(format!("event {i}: `original` is not valid base64: {x}")))?;
                if Some(loket_core::sha256_hex(&bytes)) != e.original_sha256 {
                    return Err(err(format!(
                        "event {i}: original does not match its sha256"
                    )));
                }
                Some(bytes)
            }
            None => None,
        };
        originals.push(original);
    }
    Ok(Decoded {
        line,
        raw,
        attachments,
        originals,
    })
}

/// At most this many bad lines are reported; reading stops soon after.
const MAX_REPORTED_ERRORS: usize = 1000;

/// Lines per unit of validation work handed to a thread.
const VALIDATE_CHUNK: usize = 2048;

/// The outcome of the validation pass.
pub(super) struct Validated {
    /// Empty = the file is valid; else the first [`MAX_REPORTED_ERRORS`] in line order.
    pub errors: Vec<ImportError>,
    /// Non-blank lines.
    pub lines: usize,
    /// Tenants the file names that do not exist yet: (slug, name), by first mention.
    pub missing: Vec<(String, String)>,
}

/// What one chunk of lines taught the validation pass.
#[derive(Default)]
struct ChunkVerdict {
    lines: usize,
    errors: Vec<ImportError>,
    /// Tenants not known yet: (first line, slug, name).
    new_tenants: Vec<(usize, String, String)>,
}

fn validate_chunk(
    chunk: Vec<(usize, String)>,
    known: &HashSet<String>,
    only_tenant: Option<&str>,
    create_tenants: bool,
) -> ChunkVerdict {
    let mut v = ChunkVerdict::default();
    for (lineno, text) in chunk {
        if text.trim().is_empty() {
            continue;
        }
        v.lines += 1;
        match decode_line(lineno, &text) {
            Err(e) => v.errors.push(e),
            Ok(d) => {
                let slug = d.line.tenant;
                let allowed = match only_tenant {
                    Some(t) => t == slug,
                    None => known.contains(&slug) || create_tenants,
                };
                if !allowed {
                    v.errors.push(ImportError {
                        line: lineno,
                        message: format!("tenant `{slug}` not found"),
                    });
                } else if !known.contains(&slug)
                    && !v.new_tenants.iter().any(|(_, s, _)| *s == slug)
                {
                    v.new_tenants.push((lineno, slug, d.line.tenant_name));
                }
            }
        }
    }
    v
}

/// The validation pass on every core: decoding a line (JSON, base64, SHA-256) is the
/// whole cost of the pass, and the writer has nothing to do until it is over. This
/// thread reads the lines and hands out chunks; the verdicts are merged in line order.
fn validate_lines(
    lines: Box<dyn Iterator<Item = std::io::Result<String>> + Send>,
    known: &HashSet<String>,
    only_tenant: Option<&str>,
    create_tenants: bool,
) -> Result<Validated> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Vec<(usize, String)>>(workers * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (verdict_tx, verdict_rx) = std::sync::mpsc::channel::<ChunkVerdict>();
    let mut verdicts = Vec::new();
    let read = std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let verdict_tx = verdict_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked; the scope re-raises it.
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let verdict = validate_chunk(chunk, known, only_tenant, create_tenants);
                    if verdict_tx.send(verdict).is_err() {
                        return;
                    }
                }
            });
        }
        drop(verdict_tx);
        let mut chunk = Vec::with_capacity(VALIDATE_CHUNK);
        let mut errors_seen = 0;
        for (i, text) in lines.enumerate() {
            let lineno = i + 1;
            let text =
                text.map_err(|e| StoreError::Invalid(format!("cannot read line {lineno}: {e}")))?;
            chunk.push((lineno, text));
            if chunk.len() == VALIDATE_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(VALIDATE_CHUNK));
                if work_tx.send(full).is_err() {
                    break;
                }
                // Enough errors to report: the rest of the file need not be read.
                for v in verdict_rx.try_iter() {
                    errors_seen += v.errors.len();
                    verdicts.push(v);
                }
                if errors_seen >= MAX_REPORTED_ERRORS {
                    break;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = work_tx.send(chunk);
        }
        drop(work_tx);
        Ok(())
    });
    read?;
    // Every worker has finished (the scope joined them), so every verdict is here.
    verdicts.extend(verdict_rx.try_iter());
    let mut lines = 0;
    let mut errors = Vec::new();
    let mut new_tenants = Vec::new();
    for v in verdicts {
        lines += v.lines;
        errors.extend(v.errors);
        new_tenants.extend(v.new_tenants);
    }
    errors.sort_by_key(|e| e.line);
    errors.truncate(MAX_REPORTED_ERRORS);
    new_tenants.sort_by_key(|(line, _, _)| *line);
    let mut missing: Vec<(String, String)> = Vec::new();
    for (_, slug, name) in new_tenants {
        if !missing.iter().any(|(s, _)| *s == slug) {
            missing.push((slug, name));
        }
    }
    Ok(Validated {
        errors,
        lines,
        missing,
    })
}

impl Store {
    /// Validates every line of `source`.
    pub(super) async fn validate_jsonl<F>(
        &self,
        source: &F,
        opts: &ImportOptions,
    ) -> Result<Validated>
    where
        F: Fn() -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>>,
    {
        let known: HashSet<String> = self.tenants().await?.into_iter().map(|t| t.slug).collect();
        let only = opts.only_tenant.as_ref().map(|t| t.slug.as_str());
        validate_lines(source()?, &known, only, opts.create_tenants)
    }
}
