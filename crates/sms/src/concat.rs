//! Reassembly of concatenated SMS that arrive as one webhook per part (Vonage). Parts
//! wait in memory per (tenant, sender, reference) until all have arrived, then become
//! one message whose original is the parts' raw bytes in part order, one per line (a
//! form or JSON body holds no raw newline). Parts older than `MAX_AGE` are dropped.
//!
//! Limitation: a part is acknowledged when it is buffered, not when it is stored, so a
//! restart between the first and the last part loses the buffered parts (the provider
//! does not resend acknowledged parts). The complete message is stored before the last
//! part is acknowledged.

use crate::webhook::InboundSms;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

struct Parts {
    first_seen: Instant,
    total: u32,
    parts: HashMap<u32, (InboundSms, Vec<u8>)>,
}

#[derive(Default)]
pub struct ConcatBuffer {
    pending: Mutex<HashMap<(String, String, String), Parts>>,
}

/// A message made whole: the text of all parts and the originals joined.
pub struct Whole {
    pub sms: InboundSms,
    pub raw: Vec<u8>,
}

impl ConcatBuffer {
    /// Adds a part; returns the whole message once the last part is in.
    pub fn add(&self, tenant: &str, sms: InboundSms, raw: Vec<u8>) -> Option<Whole> {
        let concat = sms.concat.clone()?;
        let key = (
            tenant.to_owned(),
            sms.from.clone(),
            concat.reference.clone(),
        );
        // A poisoned lock only means another request panicked mid-insert; the map is
        // still a valid map.
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| p.first_seen.elapsed() < MAX_AGE);
        let entry = pending.entry(key.clone()).or_insert_with(|| Parts {
            first_seen: Instant::now(),
            total: concat.total,
            parts: HashMap::new(),
        });
        entry.parts.insert(concat.part, (sms, raw));
        if entry.parts.len() < entry.total as usize {
            return None;
        }
        let parts = pending.remove(&key)?;
        let mut ordered: Vec<(u32, (InboundSms, Vec<u8>))> = parts.parts.into_iter().collect();
        ordered.sort_by_key(|(n, _)| *n);
        let mut text = String::new();
        let mut raw = Vec::new();
        for (i, (_, (part, bytes))) in ordered.iter().enumerate() {
            text.push_str(&part.text);
            if i > 0 {
                raw.push(b'\n');
            }
            raw.extend_from_slice(bytes);
        }
        let (_, (first, _)) = ordered.into_iter().next()?;
        Some(Whole {
            sms: InboundSms {
                text,
                concat: None,
                ..first
            },
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::ConcatPart;

    fn part(n: u32, text: &str) -> InboundSms {
        InboundSms {
            provider_message_id: format!("id{n}"),
            from: "31612345678".into(),
            to: "3197010000000".into(),
            text: text.into(),
            sent_at: None,
            media: Vec::new(),
            concat: Some(ConcatPart {
                reference: "7".into(),
                total: 3,
                part: n,
            }),
        }
    }

    #[test]
    fn three_parts_in_any_order_make_one_message_once() {
        let b = ConcatBuffer::default();
        assert!(b.add("t", part(2, "lo w"), b"p2".to_vec()).is_none());
        assert!(b.add("t", part(3, "ereld"), b"p3".to_vec()).is_none());
        assert!(
            b.add("t", part(2, "lo w"), b"p2".to_vec()).is_none(),
            "a repeated part is no new part"
        );
        let whole = b
            .add("t", part(1, "hal"), b"p1".to_vec())
            .map(|w| (w.sms.text, w.raw, w.sms.provider_message_id));
        assert_eq!(
            whole,
            Some(("hallo wereld".into(), b"p1\np2\np3".to_vec(), "id1".into()))
        );
        assert!(b.add("t", part(1, "hal"), b"p1".to_vec()).is_none());
    }
}
