//! Highlighted snippets: the densest window of matching words in the message text,
//! HTML-escaped, matches wrapped in `<mark>`.

use crate::analysis;
use crate::compile::Highlight;
use tantivy::tokenizer::TextAnalyzer;

/// Bytes of text around the first match in a snippet window.
const WINDOW: usize = 200;
const LEAD: usize = 40;
/// Only this much of a long text is scanned for a snippet.
const SCAN_BYTES: usize = 64 * 1024;

pub struct Snippeter {
    h: Highlight,
    dutch: TextAnalyzer,
    exact: TextAnalyzer,
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\r' | '\n' | '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

impl Snippeter {
    pub fn new(h: Highlight) -> Self {
        Snippeter {
            h,
            dutch: analysis::dutch(),
            exact: analysis::exact(),
        }
    }

    fn matches(&mut self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.h.stemmed.is_empty() && self.h.exact.is_empty() && self.h.prefixes.is_empty() {
            return out;
        }
        for t in analysis::tokens(&mut self.exact, text) {
            let hit = self.h.exact.contains(&t.text)
                || self
                    .h
                    .prefixes
                    .iter()
                    .any(|p| t.text.starts_with(p.as_str()))
                || (!self.h.stemmed.is_empty()
                    && analysis::terms(&mut self.dutch, &t.text)
                        .first()
                        .is_some_and(|s| self.h.stemmed.contains(s)));
            if hit {
                out.push((t.from, t.to));
            }
        }
        out
    }

    /// A snippet of `text`, or of `fallback` (the subject) when the text has no match.
    pub fn snippet(&mut self, text: &str, fallback: Option<&str>) -> String {
        let text = &text[..floor_boundary(text, SCAN_BYTES)];
        let m = self.matches(text);
        if m.is_empty() {
            if let Some(s) = fallback {
                let ms = self.matches(s);
                if !ms.is_empty() {
                    return render(s, 0, s.len(), &ms);
                }
            }
            let end = floor_boundary(text, WINDOW);
            let mut s = escape(&text[..end]);
            if end < text.len() {
                s.push('…');
            }
            return s;
        }
        // the match whose window holds the most matches
        let mut best = (0usize, 0usize);
        for (i, (from, _)) in m.iter().enumerate() {
            let n = m[i..]
                .iter()
                .take_while(|(f, _)| *f < from + WINDOW - LEAD)
                .count();
            if n > best.1 {
                best = (i, n);
            }
        }
        let first = m[best.0].0;
        let mut start = floor_boundary(text, first.saturating_sub(LEAD));
        // start at a word boundary when there is one nearby
        if start > 0
            && let Some(sp) = text[start..first].find(char::is_whitespace)
        {
            start += sp + 1;
        }
        let end = floor_boundary(text, start + WINDOW);
        render(text, start, end, &m)
    }
}

fn render(text: &str, start: usize, end: usize, m: &[(usize, usize)]) -> String {
    let mut o = String::new();
    if start > 0 {
        o.push('…');
    }
    let mut at = start;
    for &(f, t) in m {
        if f < start || t > end {
            continue;
        }
        o.push_str(&escape(&text[at..f]));
        o.push_str("<mark>");
        o.push_str(&escape(&text[f..t]));
        o.push_str("</mark>");
        at = t;
    }
    o.push_str(&escape(&text[at..end]));
    if end < text.len() {
        o.push('…');
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_stemmed_and_prefix_matches() {
        let mut h = Highlight::default();
        h.stemmed
            .insert(analysis::terms(&mut analysis::dutch(), "vergunning")[0].clone());
        h.prefixes.insert("boom".into());
        let mut s = Snippeter::new(h);
        let out = s.snippet("Mijn <vergunningen> voor de bomen & boomhut", None);
        assert_eq!(
            out,
            "Mijn &lt;<mark>vergunningen</mark>&gt; voor de bomen &amp; <mark>boomhut</mark>"
        );
    }

    #[test]
    fn long_text_is_windowed() {
        let mut h = Highlight::default();
        h.exact.insert("café".replace('é', "e"));
        let mut s = Snippeter::new(h);
        let text = format!(
            "{} het Café is dicht {}",
            "woord ".repeat(100),
            "slot ".repeat(100)
        );
        let out = s.snippet(&text, None);
        assert!(out.starts_with('…') && out.ends_with('…'), "{out}");
        assert!(out.contains("<mark>Café</mark>"));
    }
}
