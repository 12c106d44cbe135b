//! The query language of the FOI search (documented with examples in `docs/search.md`).
//!
//! ```text
//! query    := or
//! or       := and ( "OR" and )*
//! and      := unary ( ["AND"] unary )*          -- juxtaposition means AND
//! unary    := ("NOT" | "-") unary | primary
//! primary  := "(" or ")" | field ":" value | term
//! term     := word | word "*" | word "~" [0-2] | "\"" phrase "\""
//! field    := from | to | subject | exact | channel | direction | label | topic
//!           | woo | flag | conversation | id | date
//! value    := term                                (from, to, subject, exact)
//!           | word                                (the others)
//!           | date [".." date] | ".." date        (date; date = YYYY[-MM[-DD]])
//! ```
//!
//! Operators are upper-case (`AND`, `OR`, `NOT`); lower-case `and`/`or` are ordinary words.
//! Parsing is pure: it produces an [`Ast`] and never touches an index. Positions in errors
//! are 0-based character offsets.

use crate::error::SearchError;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};

/// Limits that bound the CPU and memory one query can take. All are configurable
/// (see [`crate::SearchConfig`]) and documented in `docs/search.md`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct QueryLimits {
    /// Longest query, in characters.
    pub max_query_chars: usize,
    /// Most words, phrases, prefixes and filters in one query.
    pub max_clauses: usize,
    /// Deepest nesting of parentheses and NOTs.
    pub max_depth: usize,
    /// Most words in one phrase.
    pub max_phrase_words: usize,
    /// Shortest prefix before `*` (so `a*` cannot expand to a large part of the dictionary).
    pub min_prefix_chars: usize,
    /// Most distinct index terms one prefix may expand to.
    pub max_prefix_expansions: usize,
    /// Largest edit distance for `~`.
    pub max_fuzzy_distance: u8,
    /// Shortest word that may be fuzzy.
    pub min_fuzzy_chars: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_query_chars: 1_000,
            max_clauses: 64,
            max_depth: 16,
            max_phrase_words: 32,
            min_prefix_chars: 3,
            max_prefix_expansions: 5_000,
            max_fuzzy_distance: 2,
            min_fuzzy_chars: 3,
        }
    }
}

/// Which text a term is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Subject, text, addresses, attachment names and text; stemmed.
    All,
    /// The same, unstemmed (`exact:`).
    Exact,
    From,
    To,
    Subject,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    Word(String),
    Phrase(String),
    Prefix(String),
    Fuzzy(String, u8),
}

/// Exact-value filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterField {
    Channel,
    Direction,
    Label,
    Topic,
    WooCase,
    Flag,
    Conversation,
    Id,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
    Term {
        target: Target,
        kind: TermKind,
        pos: usize,
    },
    Filter {
        field: FilterField,
        value: String,
        pos: usize,
    },
    /// Received between `from` (inclusive) and `to` (exclusive), microseconds since the epoch.
    Date {
        from: Option<i64>,
        to: Option<i64>,
        pos: usize,
    },
}

impl Ast {
    /// True when the query can only exclude (e.g. `NOT spam`): it then runs against all
    /// messages minus the excluded ones.
    pub fn is_negative(&self) -> bool {
        match self {
            Ast::Not(_) => true,
            Ast::And(v) => v.iter().all(Ast::is_negative),
            Ast::Or(v) => v.iter().any(Ast::is_negative),
            _ => false,
        }
    }
}

pub(crate) fn qerr(
    position: usize,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> SearchError {
    SearchError::Query {
        position,
        message: message.into(),
        hint: hint.into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `name:` and where its value must start (right after the colon, no space)
    Field(String, usize),
    Word(String),
    Quoted(String),
}

fn is_special(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || c == '"'
}

const FIELDS: &[&str] = &[
    "from",
    "to",
    "subject",
    "exact",
    "channel",
    "direction",
    "label",
    "topic",
    "woo",
    "flag",
    "conversation",
    "id",
    "date",
];

fn lex(chars: &[char]) -> Result<Vec<(Tok, usize)>, SearchError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '(' => {
                out.push((Tok::LParen, i));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, i));
                i += 1;
            }
            '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '"' {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(qerr(
                        start,
                        "unterminated phrase",
                        "close the phrase with a second \" (to search for the character itself, leave it out)",
                    ));
                }
                let phrase: String = chars[i + 1..j].iter().collect();
                out.push((Tok::Quoted(phrase), start));
                i = j + 1;
            }
            '-' if i + 1 < chars.len()
                && !is_special(chars[i + 1])
                && (i == 0 || is_special(chars[i - 1])) =>
            {
                out.push((Tok::Not, i));
                i += 1;
            }
            _ => {
                let mut j = i;
                while j < chars.len() && !is_special(chars[j]) {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                // `field:value` — split off a known field name.
                if let Some(colon) = word.find(':') {
                    let name = &word[..colon];
                    let lname = name.to_ascii_lowercase();
                    if FIELDS.contains(&lname.as_str()) {
                        let name_chars = name.chars().count() + 1;
                        out.push((Tok::Field(lname, start + name_chars), start));
                        let rest: String = word[colon + 1..].to_owned();
                        if !rest.is_empty() {
                            out.push((Tok::Word(rest), start + name_chars));
                        }
                        i = j;
                        continue;
                    } else if !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphabetic())
                        && colon + 1 < word.len()
                    {
                        return Err(qerr(
                            start,
                            format!("unknown field `{name}`"),
                            format!("known fields: {}", FIELDS.join(", ")),
                        ));
                    }
                }
                let tok = match word.as_str() {
                    "AND" | "&&" => Tok::And,
                    "OR" | "||" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => Tok::Word(word),
                };
                out.push((tok, start));
                i = j;
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    limits: &'a QueryLimits,
    clauses: usize,
}

/// Parses a query into its syntax tree, enforcing the limits that need no index.
pub fn parse(query: &str, limits: &QueryLimits) -> Result<Ast, SearchError> {
    let chars: Vec<char> = query.chars().collect();
    if chars.len() > limits.max_query_chars {
        return Err(qerr(
            limits.max_query_chars,
            format!(
                "query is too long ({} characters, at most {})",
                chars.len(),
                limits.max_query_chars
            ),
            "split the search into several searches",
        ));
    }
    let toks = lex(&chars)?;
    if toks.is_empty() {
        return Err(qerr(
            0,
            "empty query",
            "type one or more words, e.g. vergunning",
        ));
    }
    let mut p = Parser {
        toks,
        at: 0,
        end: chars.len(),
        limits,
        clauses: 0,
    };
    let ast = p.or(0)?;
    if let Some((t, pos)) = p.toks.get(p.at) {
        let hint = if *t == Tok::RParen {
            "this ) has no matching ("
        } else {
            "remove or quote this part"
        };
        return Err(qerr(*pos, "unexpected input", hint));
    }
    Ok(ast)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(_, p)| *p)
    }

    fn depth_check(&self, depth: usize) -> Result<(), SearchError> {
        if depth > self.limits.max_depth {
            return Err(qerr(
                self.pos(),
                format!(
                    "query is nested too deeply (at most {} levels)",
                    self.limits.max_depth
                ),
                "remove parentheses or NOTs",
            ));
        }
        Ok(())
    }

    fn clause(&mut self, pos: usize) -> Result<(), SearchError> {
        self.clauses += 1;
        if self.clauses > self.limits.max_clauses {
            return Err(qerr(
                pos,
                format!("too many terms (at most {})", self.limits.max_clauses),
                "split the search into several searches",
            ));
        }
        Ok(())
    }

    fn or(&mut self, depth: usize) -> Result<Ast, SearchError> {
        self.depth_check(depth)?;
        let mut items = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Ast, SearchError> {
        let mut items = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.at += 1;
                    items.push(self.unary(depth)?);
                }
                Some(Tok::Or) | Some(Tok::RParen) | None => break,
                Some(_) => items.push(self.unary(depth)?),
            }
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Ast, SearchError> {
        if self.peek() == Some(&Tok::Not) {
            self.at += 1;
            self.depth_check(depth + 1)?;
            return Ok(Ast::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Ast, SearchError> {
        let pos = self.pos();
        let Some((tok, _)) = self.toks.get(self.at).cloned() else {
            return Err(qerr(
                pos,
                "the query ends too early",
                "add a word after the operator",
            ));
        };
        self.at += 1;
        match tok {
            Tok::LParen => {
                if self.peek() == Some(&Tok::RParen) {
                    return Err(qerr(pos, "empty parentheses", "put words between ( and )"));
                }
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(qerr(
                        pos,
                        "this ( is never closed",
                        "add a ) at the end of the group",
                    ));
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::RParen => Err(qerr(pos, "unexpected )", "this ) has no matching (")),
            Tok::And | Tok::Or => Err(qerr(
                pos,
                "AND/OR needs a word on both sides",
                "remove the operator, or search for the word in lower case (and, or)",
            )),
            Tok::Not => Err(qerr(pos, "NOT needs a word after it", "write NOT word")),
            Tok::Word(w) => {
                self.clause(pos)?;
                self.term(Target::All, &w, pos)
            }
            Tok::Quoted(q) => {
                self.clause(pos)?;
                self.phrase(Target::All, q, pos)
            }
            Tok::Field(name, vpos) => {
                self.clause(pos)?;
                let value = match self.toks.get(self.at) {
                    Some((Tok::Word(w), p)) if *p == vpos => {
                        let w = w.clone();
                        self.at += 1;
                        Value::Word(w)
                    }
                    Some((Tok::Quoted(q), p)) if *p == vpos => {
                        let q = q.clone();
                        self.at += 1;
                        Value::Quoted(q)
                    }
                    _ => {
                        return Err(qerr(
                            vpos,
                            format!("`{name}:` needs a value"),
                            format!("write {name}:value without a space after the colon"),
                        ));
                    }
                };
                self.field(&name, value, vpos)
            }
        }
    }

    fn field(&mut self, name: &str, value: Value, pos: usize) -> Result<Ast, SearchError> {
        let text_target = match name {
            "from" => Some(Target::From),
            "to" => Some(Target::To),
            "subject" => Some(Target::Subject),
            "exact" => Some(Target::Exact),
            _ => None,
        };
        if let Some(target) = text_target {
            return match value {
                Value::Word(w) => self.term(target, &w, pos),
                Value::Quoted(q) => self.phrase(target, q, pos),
            };
        }
        let raw = match value {
            Value::Word(w) => w,
            Value::Quoted(q) => q,
        };
        if name == "date" {
            return parse_date_range(&raw, pos);
        }
        let (field, value) = match name {
            "channel" => {
                let v = raw.to_ascii_lowercase();
                if !loket_core::Channel::ALL.iter().any(|c| c.as_str() == v) {
                    let all: Vec<&str> = loket_core::Channel::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect();
                    return Err(qerr(
                        pos,
                        format!("unknown channel `{raw}`"),
                        format!("channels: {}", all.join(", ")),
                    ));
                }
                (FilterField::Channel, v)
            }
            "direction" => {
                let v = raw.to_ascii_lowercase();
                if v != "inbound" && v != "outbound" {
                    return Err(qerr(
                        pos,
                        format!("unknown direction `{raw}`"),
                        "direction:inbound or direction:outbound",
                    ));
                }
                (FilterField::Direction, v)
            }
            "conversation" | "id" => {
                let v = raw.to_ascii_lowercase();
                match uuid::Uuid::parse_str(&v) {
                    Ok(u) => (
                        if name == "id" {
                            FilterField::Id
                        } else {
                            FilterField::Conversation
                        },
                        u.hyphenated().to_string(),
                    ),
                    Err(_) => {
                        return Err(qerr(
                            pos,
                            format!("`{raw}` is not a {name} id"),
                            "use the id as shown in the inbox, e.g. 0192f5c3-…",
                        ));
                    }
                }
            }
            "label" => (FilterField::Label, raw.to_lowercase()),
            "topic" => (FilterField::Topic, raw.to_lowercase()),
            "woo" => (FilterField::WooCase, raw),
            "flag" => (FilterField::Flag, raw.to_ascii_lowercase()),
            _ => {
                return Err(qerr(
                    pos,
                    format!("unknown field `{name}`"),
                    format!("known fields: {}", FIELDS.join(", ")),
                ));
            }
        };
        Ok(Ast::Filter { field, value, pos })
    }

    fn phrase(&mut self, target: Target, q: String, pos: usize) -> Result<Ast, SearchError> {
        let words = q.split_whitespace().count();
        if words == 0 {
            return Err(qerr(pos, "empty phrase", "put words between the quotes"));
        }
        if words > self.limits.max_phrase_words {
            return Err(qerr(
                pos,
                format!(
                    "phrase is too long ({words} words, at most {})",
                    self.limits.max_phrase_words
                ),
                "search for a shorter, distinctive part of the phrase",
            ));
        }
        Ok(Ast::Term {
            target,
            kind: TermKind::Phrase(q),
            pos,
        })
    }

    fn term(&mut self, target: Target, w: &str, pos: usize) -> Result<Ast, SearchError> {
        let l = self.limits;
        if let Some(star) = w.find('*') {
            let stem = &w[..star];
            if star + 1 != w.len() {
                return Err(qerr(
                    pos + stem.chars().count(),
                    "a wildcard can only end a word",
                    "write vergunn* (prefix search); * inside or before a word is not supported",
                ));
            }
            if stem.is_empty() {
                return Err(qerr(
                    pos,
                    "a lone * would match every message",
                    "give at least the first letters: vergunn*",
                ));
            }
            if stem.chars().count() < l.min_prefix_chars {
                return Err(qerr(
                    pos,
                    format!(
                        "prefix `{stem}*` is too short (at least {} letters)",
                        l.min_prefix_chars
                    ),
                    "type more of the word before the *",
                ));
            }
            return Ok(Ast::Term {
                target,
                kind: TermKind::Prefix(stem.to_owned()),
                pos,
            });
        }
        if let Some(tilde) = w.find('~') {
            let stem = &w[..tilde];
            let rest = &w[tilde + 1..];
            let dist: u8 = if rest.is_empty() {
                1
            } else {
                match rest.parse::<u8>() {
                    Ok(d) => d,
                    Err(_) => {
                        return Err(qerr(
                            pos + stem.chars().count() + 1,
                            format!("`~{rest}` is not an edit distance"),
                            "write word~1 or word~2",
                        ));
                    }
                }
            };
            if dist > l.max_fuzzy_distance {
                return Err(qerr(
                    pos + stem.chars().count() + 1,
                    format!(
                        "edit distance {dist} is too large (at most {})",
                        l.max_fuzzy_distance
                    ),
                    "write word~1 or word~2",
                ));
            }
            if stem.chars().count() < l.min_fuzzy_chars {
                return Err(qerr(
                    pos,
                    format!(
                        "`{stem}` is too short for fuzzy search (at least {} letters)",
                        l.min_fuzzy_chars
                    ),
                    "search for the word itself",
                ));
            }
            return Ok(Ast::Term {
                target,
                kind: TermKind::Fuzzy(stem.to_owned(), dist),
                pos,
            });
        }
        Ok(Ast::Term {
            target,
            kind: TermKind::Word(w.to_owned()),
            pos,
        })
    }
}

enum Value {
    Word(String),
    Quoted(String),
}

/// Parses `A..B`, `A..`, `..B` or `A` where each side is `YYYY`, `YYYY-MM` or `YYYY-MM-DD`
/// (UTC days). `A` alone means that whole year, month or day.
fn parse_date_range(raw: &str, pos: usize) -> Result<Ast, SearchError> {
    let hint = "write date:2024-01-01..2024-06-30 (either side may be left out: date:2024-01-01.. or date:..2024-06-30; date:2024-05 is a whole month)";
    let (a, b, single) = match raw.find("..") {
        Some(i) => (&raw[..i], &raw[i + 2..], false),
        None => (raw, raw, true),
    };
    if a.is_empty() && b.is_empty() {
        return Err(qerr(pos, "date range without dates", hint));
    }
    let parse_side =
        |s: &str, offset: usize| -> Result<Option<(NaiveDate, NaiveDate)>, SearchError> {
            if s.is_empty() {
                return Ok(None);
            }
            period(s)
                .map(Some)
                .ok_or_else(|| qerr(pos + offset, format!("`{s}` is not a date"), hint))
        };
    let from = parse_side(a, 0)?;
    let to = parse_side(b, if single { 0 } else { a.chars().count() + 2 })?;
    let micros = |d: NaiveDate| -> i64 {
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .timestamp_micros()
    };
    let from_us = from.map(|(start, _)| micros(start));
    let to_us = to.map(|(_, end)| micros(end));
    if let (Some(f), Some(t)) = (from_us, to_us)
        && f >= t
    {
        return Err(qerr(
            pos,
            "the date range runs backwards",
            "put the earlier date first: date:2024-01-01..2024-06-30",
        ));
    }
    Ok(Ast::Date {
        from: from_us,
        to: to_us,
        pos,
    })
}

/// The first day of the period and the day after it.
fn period(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| -> Option<u32> {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => {
            let y = num(y, 4)? as i32;
            Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?,
            ))
        }
        [y, m] => {
            let y = num(y, 4)? as i32;
            let m = num(m, 2)?;
            let start = NaiveDate::from_ymd_opt(y, m, 1)?;
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)?
            };
            Some((start, next))
        }
        [y, m, d] => {
            let start = NaiveDate::from_ymd_opt(num(y, 4)? as i32, num(m, 2)?, num(d, 2)?)?;
            Some((start, start.succ_opt()?))
        }
        _ => None,
    }
    .filter(|(a, _)| a.year() >= 1970)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Result<Ast, SearchError> {
        parse(q, &QueryLimits::default())
    }

    fn err_pos(q: &str) -> (usize, String) {
        match p(q) {
            Err(SearchError::Query {
                position,
                message,
                hint,
            }) => {
                assert!(!hint.is_empty(), "no hint for {q}");
                (position, message)
            }
            other => panic!("expected a query error for {q:?}, got {other:?}"),
        }
    }

    fn word(w: &str, pos: usize) -> Ast {
        Ast::Term {
            target: Target::All,
            kind: TermKind::Word(w.into()),
            pos,
        }
    }

    #[test]
    fn words_are_anded_and_or_binds_weaker() {
        assert_eq!(
            p("a b").unwrap(),
            Ast::And(vec![word("a", 0), word("b", 2)])
        );
        assert_eq!(
            p("a OR b c").unwrap(),
            Ast::Or(vec![
                word("a", 0),
                Ast::And(vec![word("b", 5), word("c", 7)])
            ])
        );
        assert_eq!(
            p("(a OR b) AND NOT c").unwrap(),
            Ast::And(vec![
                Ast::Or(vec![word("a", 1), word("b", 6)]),
                Ast::Not(Box::new(word("c", 17)))
            ])
        );
        assert_eq!(p("-c").unwrap(), Ast::Not(Box::new(word("c", 1))));
        assert_eq!(p("e-mail").unwrap(), word("e-mail", 0));
        assert_eq!(
            p("and or").unwrap(),
            Ast::And(vec![word("and", 0), word("or", 4)])
        );
    }

    #[test]
    fn prefix_fuzzy_phrase_fields() {
        assert_eq!(
            p("vergunn*").unwrap(),
            Ast::Term {
                target: Target::All,
                kind: TermKind::Prefix("vergunn".into()),
                pos: 0
            }
        );
        assert_eq!(
            p("vergunning~1").unwrap(),
            Ast::Term {
                target: Target::All,
                kind: TermKind::Fuzzy("vergunning".into(), 1),
                pos: 0
            }
        );
        assert_eq!(
            p("subject:\"kap vergunning\"").unwrap(),
            Ast::Term {
                target: Target::Subject,
                kind: TermKind::Phrase("kap vergunning".into()),
                pos: 8
            }
        );
        assert_eq!(
            p("channel:SMS").unwrap(),
            Ast::Filter {
                field: FilterField::Channel,
                value: "sms".into(),
                pos: 8
            }
        );
        assert!(matches!(
            p("from:jan@example.nl").unwrap(),
            Ast::Term {
                target: Target::From,
                ..
            }
        ));
    }

    #[test]
    fn date_ranges() {
        let Ast::Date {
            from: Some(f),
            to: Some(t),
            ..
        } = p("date:2024-01-01..2024-06-30").unwrap()
        else {
            panic!("not a date range")
        };
        assert_eq!(f, 1_704_067_200_000_000); // 2024-01-01T00:00Z
        assert_eq!(t, 1_719_792_000_000_000); // 2024-07-01T00:00Z (end day inclusive)
        assert!(matches!(
            p("date:..2024-06").unwrap(),
            Ast::Date {
                from: None,
                to: Some(_),
                ..
            }
        ));
        assert!(matches!(
            p("date:2024").unwrap(),
            Ast::Date {
                from: Some(_),
                to: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn malformed_queries_give_position_and_hint() {
        assert_eq!(err_pos("kap \"vergunning").0, 4);
        assert_eq!(err_pos("(kap OR boom").0, 0);
        assert_eq!(err_pos("kap)").0, 3);
        assert_eq!(err_pos("kap OR").0, 6);
        assert_eq!(err_pos("AND kap").0, 0);
        assert_eq!(err_pos("*").0, 0);
        assert_eq!(err_pos("ve*").0, 0);
        assert_eq!(err_pos("a*b").0, 1);
        assert_eq!(err_pos("kap~9").0, 4);
        assert_eq!(err_pos("channel:fax").0, 8);
        assert_eq!(err_pos("kleur:rood").0, 0);
        assert_eq!(err_pos("from: jan").0, 5);
        assert_eq!(err_pos("date:2024-06-30..2024-01-01").0, 5);
        assert_eq!(err_pos("date:2024-13-01").0, 5);
        assert_eq!(err_pos("x date:2024-01-01..gisteren").0, 19);
        assert_eq!(err_pos("conversation:abc").0, 13);
        assert_eq!(err_pos("()").0, 0);
        assert_eq!(err_pos("   ").0, 0);
        // positions are characters, not bytes
        assert_eq!(err_pos("café \"open").0, 5);
    }

    #[test]
    fn absurd_queries_are_refused() {
        let long = "a ".repeat(600);
        assert!(err_pos(&long).1.contains("too long"));
        let many = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(err_pos(&many).1.contains("too many"));
        let deep = format!("{}x{}", "(".repeat(40), ")".repeat(40));
        assert!(err_pos(&deep).1.contains("nested"));
        let nots = format!("{}x", "NOT ".repeat(40));
        assert!(err_pos(&nots).1.contains("nested"));
    }
}
