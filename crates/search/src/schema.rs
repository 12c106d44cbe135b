//! The index schema and how a message becomes a document.

use crate::analysis::{DUTCH, EXACT};
use loket_core::{Address, ConversationId, Message, MessageId, Timestamp};
use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// Bump when the schema or the analysis changes: an index with another version is rebuilt
/// from the store automatically (the old one keeps serving until the new one is complete).
pub const SCHEMA_VERSION: u32 = 1;

/// Handles to the fields of a loket index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Message id as text (raw, indexed, stored): used to replace a document and for `id:`.
    pub message_id: Field,
    /// The 128 bits of the message id as two fast fields (verify, keyset tie-breaker).
    pub id_hi: Field,
    pub id_lo: Field,
    pub conversation: Field,
    pub conv_hi: Field,
    pub conv_lo: Field,
    pub channel: Field,
    pub direction: Field,
    /// Sender and recipients: addresses and names, unstemmed tokens (`from:`, `to:`).
    pub from: Field,
    pub to: Field,
    /// Display form of the sender (stored only).
    pub from_display: Field,
    pub subject: Field,
    /// The message text (stored only; searched through `all`). Used for snippets.
    pub body: Field,
    /// Everything searchable without a field prefix, stemmed: subject, text, addresses,
    /// attachment names and attachment text.
    pub all: Field,
    /// The same, unstemmed: exact matches, prefixes and fuzzy terms.
    pub all_exact: Field,
    pub label: Field,
    pub topic: Field,
    pub woo_case: Field,
    pub flag: Field,
    /// Received time in microseconds since the epoch (indexed for ranges, fast for sorting).
    pub received_at: Field,
}

fn text(tokenizer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { o.set_stored() } else { o }
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        message_id: b.add_text_field("message_id", STRING | STORED),
        id_hi: b.add_u64_field("id_hi", FAST),
        id_lo: b.add_u64_field("id_lo", FAST),
        conversation: b.add_text_field("conversation", STRING | STORED),
        conv_hi: b.add_u64_field("conv_hi", FAST),
        conv_lo: b.add_u64_field("conv_lo", FAST),
        channel: b.add_text_field("channel", STRING | STORED),
        direction: b.add_text_field("direction", STRING | STORED),
        from: b.add_text_field("from", text(EXACT, false)),
        to: b.add_text_field("to", text(EXACT, false)),
        from_display: b.add_text_field("from_display", STORED),
        subject: b.add_text_field("subject", text(DUTCH, true)),
        body: b.add_text_field("body", STORED),
        all: b.add_text_field("all", text(DUTCH, false)),
        all_exact: b.add_text_field("all_exact", text(EXACT, false)),
        label: b.add_text_field("label", STRING),
        topic: b.add_text_field("topic", STRING),
        woo_case: b.add_text_field("woo_case", STRING),
        flag: b.add_text_field("flag", STRING),
        received_at: b.add_i64_field("received_at", INDEXED | FAST | STORED),
    };
    (b.build(), f)
}

/// Resolves the fields of an existing index's schema (which may be an older version).
pub fn fields_of(schema: &Schema) -> Option<Fields> {
    let g = |n: &str| schema.get_field(n).ok();
    Some(Fields {
        message_id: g("message_id")?,
        id_hi: g("id_hi")?,
        id_lo: g("id_lo")?,
        conversation: g("conversation")?,
        conv_hi: g("conv_hi")?,
        conv_lo: g("conv_lo")?,
        channel: g("channel")?,
        direction: g("direction")?,
        from: g("from")?,
        to: g("to")?,
        from_display: g("from_display")?,
        subject: g("subject")?,
        body: g("body")?,
        all: g("all")?,
        all_exact: g("all_exact")?,
        label: g("label")?,
        topic: g("topic")?,
        woo_case: g("woo_case")?,
        flag: g("flag")?,
        received_at: g("received_at")?,
    })
}

pub(crate) fn split_u128(v: u128) -> (u64, u64) {
    ((v >> 64) as u64, v as u64)
}

pub(crate) fn join_u128(hi: u64, lo: u64) -> u128 {
    ((hi as u128) << 64) | lo as u128
}

/// Everything the index holds about one message. Built from a stored [`Message`] plus the
/// extracted text of its attachments (and, once classification exists, its labels).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDoc {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub channel: String,
    pub direction: String,
    pub from: Address,
    pub to: Vec<Address>,
    pub subject: Option<String>,
    pub text: String,
    pub received_at: Timestamp,
    pub attachment_names: Vec<String>,
    pub attachment_texts: Vec<String>,
    pub labels: Vec<String>,
    pub topics: Vec<String>,
    pub woo_cases: Vec<String>,
    pub flags: Vec<String>,
}

impl MessageDoc {
    /// A document with the fields every message has; recipients, subject, attachments,
    /// labels, topics, Woo cases and flags start empty.
    pub fn new(
        message_id: MessageId,
        conversation_id: ConversationId,
        channel: &str,
        direction: &str,
        from: Address,
        text: String,
        received_at: Timestamp,
    ) -> Self {
        MessageDoc {
            message_id,
            conversation_id,
            channel: channel.to_owned(),
            direction: direction.to_owned(),
            from,
            to: Vec::new(),
            subject: None,
            text,
            received_at,
            attachment_names: Vec::new(),
            attachment_texts: Vec::new(),
            labels: Vec::new(),
            topics: Vec::new(),
            woo_cases: Vec::new(),
            flags: Vec::new(),
        }
    }

    pub fn from_message(m: &Message, attachment_texts: Vec<String>) -> Self {
        MessageDoc {
            to: m.to.clone(),
            subject: m.subject.clone(),
            attachment_names: m
                .attachments
                .iter()
                .filter_map(|a| a.filename.clone())
                .collect(),
            attachment_texts,
            flags: m.flags.iter().map(|f| f.as_str().to_owned()).collect(),
            ..MessageDoc::new(
                m.id,
                m.conversation_id,
                m.channel.as_str(),
                m.direction.as_str(),
                m.from.clone(),
                m.text.clone(),
                m.received_at,
            )
        }
    }

    /// Rough size in bytes, for batching commits by volume.
    pub fn approx_bytes(&self) -> usize {
        self.text.len()
            + self.subject.as_ref().map_or(0, String::len)
            + self.attachment_texts.iter().map(String::len).sum::<usize>()
            + 256
    }

    pub fn to_document(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        let (hi, lo) = split_u128(self.message_id.0.as_u128());
        d.add_text(f.message_id, self.message_id.to_string());
        d.add_u64(f.id_hi, hi);
        d.add_u64(f.id_lo, lo);
        let (chi, clo) = split_u128(self.conversation_id.0.as_u128());
        d.add_text(f.conversation, self.conversation_id.to_string());
        d.add_u64(f.conv_hi, chi);
        d.add_u64(f.conv_lo, clo);
        d.add_text(f.channel, &self.channel);
        d.add_text(f.direction, &self.direction);
        d.add_text(f.from_display, display_address(&self.from));
        let add_addr = |field: Field, a: &Address, d: &mut TantivyDocument| {
            d.add_text(field, &a.address);
            d.add_text(f.all, &a.address);
            d.add_text(f.all_exact, &a.address);
            if let Some(n) = &a.name {
                d.add_text(field, n);
                d.add_text(f.all, n);
                d.add_text(f.all_exact, n);
            }
        };
        add_addr(f.from, &self.from, &mut d);
        for a in &self.to {
            add_addr(f.to, a, &mut d);
        }
        if let Some(s) = &self.subject {
            d.add_text(f.subject, s);
            d.add_text(f.all, s);
            d.add_text(f.all_exact, s);
        }
        d.add_text(f.body, &self.text);
        d.add_text(f.all, &self.text);
        d.add_text(f.all_exact, &self.text);
        for t in self.attachment_names.iter().chain(&self.attachment_texts) {
            d.add_text(f.all, t);
            d.add_text(f.all_exact, t);
        }
        for l in &self.labels {
            d.add_text(f.label, l.to_lowercase());
        }
        for t in &self.topics {
            d.add_text(f.topic, t.to_lowercase());
        }
        for w in &self.woo_cases {
            d.add_text(f.woo_case, w);
        }
        for fl in &self.flags {
            d.add_text(f.flag, fl);
        }
        d.add_i64(f.received_at, self.received_at.timestamp_micros());
        d
    }
}

pub(crate) fn display_address(a: &Address) -> String {
    match &a.name {
        Some(n) if !n.is_empty() => format!("{n} <{}>", a.address),
        _ => a.address.clone(),
    }
}
