//! Turns a message into the sparse binary features the linear model reads.
//!
//! The text goes through the search index's own Dutch analyzer
//! (`loket_search::analysis::dutch`: split on non-alphanumerics, lower-case, accent
//! folding, Snowball stemming), so the classifier and search see the same terms. Features:
//! - `w:<stem>` every distinct stem (subject and body),
//! - `b:<stem>_<stem>` adjacent stem pairs ("op_grond", "all_stukk"), which carry the
//!   phrasing a single word does not,
//! - `ch:<channel>` and `dir:<direction>`, because an SMS is written differently from an
//!   email and a clerk's answer differs from a citizen's question,
//! - `len:<bucket>`, short/medium/long, so "ok" and a two-page email are not alike.

use loket_search::analysis;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

/// The message fields classification looks at.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub channel: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    pub subject: Option<&'a str>,
    pub text: &'a str,
}

impl MessageInput<'_> {
    pub fn is_inbound(&self) -> bool {
        self.direction != "outbound"
    }
}

/// Owns the analyzers (tantivy's `TextAnalyzer` needs `&mut` to run, so each thread
/// classifying in parallel clones its own; a clone is cheap).
#[derive(Clone)]
pub struct Featurizer {
    stemmed: TextAnalyzer,
    exact: TextAnalyzer,
}

impl Default for Featurizer {
    fn default() -> Self {
        Featurizer {
            stemmed: analysis::dutch(),
            exact: analysis::exact(),
        }
    }
}

/// Both token sequences of one message: stems for the model, unstemmed for the rules.
#[derive(Debug, Default, Clone)]
pub struct Analysed {
    pub stems: Vec<String>,
    pub words: Vec<String>,
}

impl Featurizer {
    pub fn analyse(&mut self, m: &MessageInput<'_>) -> Analysed {
        let mut a = Analysed::default();
        for part in m.subject.into_iter().chain(std::iter::once(m.text)) {
            push_tokens(&mut self.stemmed, part, &mut a.stems);
            push_tokens(&mut self.exact, part, &mut a.words);
        }
        a
    }

    /// Stems only (for lexicons, so they match what the model sees).
    pub fn stems(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        push_tokens(&mut self.stemmed, text, &mut out);
        out
    }
}

fn push_tokens(analyzer: &mut TextAnalyzer, text: &str, out: &mut Vec<String>) {
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
}

/// The feature names of one message, sorted and distinct.
pub fn feature_names(m: &MessageInput<'_>, a: &Analysed) -> Vec<String> {
    let mut f: Vec<String> = Vec::with_capacity(a.stems.len() * 2 + 4);
    for s in &a.stems {
        f.push(format!("w:{s}"));
    }
    for pair in a.stems.windows(2) {
        f.push(format!("b:{}_{}", pair[0], pair[1]));
    }
    f.push(format!("ch:{}", m.channel));
    f.push(format!("dir:{}", m.direction));
    f.push(
        match a.stems.len() {
            0..=4 => "len:kort",
            5..=40 => "len:middel",
            _ => "len:lang",
        }
        .to_owned(),
    );
    f.sort_unstable();
    f.dedup();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_use_the_search_stems() {
        let m = MessageInput {
            channel: "webchat",
            direction: "inbound",
            subject: None,
            text: "Vergunningen aanvragen",
        };
        let mut fz = Featurizer::default();
        let a = fz.analyse(&m);
        let mut search = analysis::dutch();
        assert_eq!(
            a.stems,
            analysis::terms(&mut search, "Vergunningen aanvragen")
        );
        let f = feature_names(&m, &a);
        assert!(f.contains(&format!("w:{}", a.stems[0])));
        assert!(f.contains(&format!("b:{}_{}", a.stems[0], a.stems[1])));
        assert!(f.contains(&"dir:inbound".to_owned()));
    }
}
