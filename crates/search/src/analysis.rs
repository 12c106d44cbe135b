//! Dutch text analysis.
//!
//! Two analyzers are registered on every index:
//! - [`DUTCH`] (`loket_nl`): split on non-alphanumerics, drop tokens over 64 bytes,
//!   lower-case, fold accents to ASCII (`café` → `cafe`, `geïnd` → `geind`), Dutch
//!   Snowball stemming (`vergunningen` → `vergunning`).
//! - [`EXACT`] (`loket_exact`): the same without stemming, for exact matching, prefixes
//!   (`vergunn*`), fuzzy terms and addresses.
//!
//! Queries go through the same analyzers, so `cafe` finds `café` and `Vergunningen`
//! finds `vergunning`.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream,
};

/// Name of the stemmed Dutch analyzer.
pub const DUTCH: &str = "loket_nl";
/// Name of the unstemmed (lower-cased, accent-folded) analyzer.
pub const EXACT: &str = "loket_exact";
/// Tokens longer than this many bytes are dropped (base64 blobs, hashes in text).
pub const MAX_TOKEN_BYTES: usize = 64;

pub fn dutch() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::Dutch))
        .build()
}

pub fn exact() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers both analyzers on an index (must be done for every opened index).
pub fn register(index: &tantivy::Index) {
    let m = index.tokenizers();
    m.register(DUTCH, dutch());
    m.register(EXACT, exact());
}

/// A token with its byte offsets in the analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub text: String,
    pub from: usize,
    pub to: usize,
}

/// Runs an analyzer over `text` and returns the tokens.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push(Tok {
            text: t.text.clone(),
            from: t.offset_from,
            to: t.offset_to,
        });
    }
    out
}

/// Token texts only.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    tokens(analyzer, text).into_iter().map(|t| t.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stemming_folds_plural_onto_singular() {
        let mut a = dutch();
        assert_eq!(terms(&mut a, "vergunningen"), terms(&mut a, "vergunning"));
        assert_eq!(terms(&mut a, "Aanvragen"), terms(&mut a, "aanvraag"));
    }

    #[test]
    fn accents_fold() {
        let mut a = dutch();
        assert_eq!(terms(&mut a, "café"), terms(&mut a, "cafe"));
        let mut e = exact();
        assert_eq!(terms(&mut e, "Café geïnd"), vec!["cafe", "geind"]);
    }

    #[test]
    fn long_tokens_dropped() {
        let mut e = exact();
        let long = "a".repeat(100);
        assert_eq!(
            terms(&mut e, &format!("kort {long} ook")),
            vec!["kort", "ook"]
        );
    }
}
