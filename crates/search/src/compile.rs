//! Turns a parsed query into a tantivy query against one index snapshot.

use crate::analysis;
use crate::error::SearchError;
use crate::query::{Ast, FilterField, QueryLimits, Target, TermKind, qerr};
use crate::schema::Fields;
use std::collections::BTreeSet;
use std::ops::Bound;
use tantivy::Searcher;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

/// What a query looks for, used to highlight snippets.
#[derive(Debug, Default, Clone)]
pub struct Highlight {
    /// Stemmed terms (compare with the Dutch analyzer's output).
    pub stemmed: BTreeSet<String>,
    /// Unstemmed terms (compare with the exact analyzer's output).
    pub exact: BTreeSet<String>,
    /// Unstemmed prefixes.
    pub prefixes: BTreeSet<String>,
}

pub struct Compiler<'a> {
    pub fields: Fields,
    pub searcher: &'a Searcher,
    pub limits: &'a QueryLimits,
    dutch: TextAnalyzer,
    exact: TextAnalyzer,
    pub highlight: Highlight,
}

impl<'a> Compiler<'a> {
    pub fn new(fields: Fields, searcher: &'a Searcher, limits: &'a QueryLimits) -> Self {
        Compiler {
            fields,
            searcher,
            limits,
            dutch: analysis::dutch(),
            exact: analysis::exact(),
            highlight: Highlight::default(),
        }
    }

    /// Compiles the whole query. A query that only excludes runs against all messages.
    pub fn compile(&mut self, ast: &Ast) -> Result<Box<dyn Query>, SearchError> {
        match self.node(ast, false)? {
            Some(q) => Ok(q),
            None => Err(qerr(
                0,
                "the query contains nothing searchable",
                "use letters or digits: punctuation alone is not indexed",
            )),
        }
    }

    fn node(&mut self, ast: &Ast, negated: bool) -> Result<Option<Box<dyn Query>>, SearchError> {
        Ok(match ast {
            Ast::Not(inner) => match self.node(inner, !negated)? {
                None => None,
                Some(q) => Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                    (Occur::MustNot, q),
                ]))),
            },
            Ast::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let mut positive = false;
                for it in items {
                    if let Ast::Not(inner) = it {
                        if let Some(q) = self.node(inner, !negated)? {
                            clauses.push((Occur::MustNot, q));
                        }
                    } else if let Some(q) = self.node(it, negated)? {
                        positive = true;
                        clauses.push((Occur::Must, q));
                    }
                }
                if clauses.is_empty() {
                    None
                } else {
                    if !positive {
                        clauses.push((Occur::Must, Box::new(AllQuery)));
                    }
                    Some(Box::new(BooleanQuery::new(clauses)))
                }
            }
            Ast::Or(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for it in items {
                    if let Some(q) = self.node(it, negated)? {
                        clauses.push((Occur::Should, q));
                    }
                }
                if clauses.is_empty() {
                    None
                } else {
                    Some(Box::new(BooleanQuery::new(clauses)))
                }
            }
            Ast::Term { target, kind, pos } => self.term(*target, kind, *pos, negated)?,
            Ast::Filter { field, value, .. } => {
                let f = match field {
                    FilterField::Channel => self.fields.channel,
                    FilterField::Direction => self.fields.direction,
                    FilterField::Label => self.fields.label,
                    FilterField::Topic => self.fields.topic,
                    FilterField::WooCase => self.fields.woo_case,
                    FilterField::Flag => self.fields.flag,
                    FilterField::Conversation => self.fields.conversation,
                    FilterField::Id => self.fields.message_id,
                };
                let q = TermQuery::new(Term::from_field_text(f, value), IndexRecordOption::Basic);
                Some(Box::new(ConstScoreQuery::new(Box::new(q), 0.0)))
            }
            Ast::Date { from, to, .. } => {
                let f = self.fields.received_at;
                let lo = from.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_i64(f, v))
                });
                let hi = to.map_or(Bound::Unbounded, |v| {
                    Bound::Excluded(Term::from_field_i64(f, v))
                });
                let (lo, hi) = match (lo, hi) {
                    (Bound::Unbounded, Bound::Unbounded) => return Ok(None),
                    // RangeQuery needs the field on at least one side.
                    (Bound::Unbounded, hi) => {
                        (Bound::Included(Term::from_field_i64(f, i64::MIN)), hi)
                    }
                    (lo, Bound::Unbounded) => {
                        (lo, Bound::Included(Term::from_field_i64(f, i64::MAX)))
                    }
                    b => b,
                };
                Some(Box::new(ConstScoreQuery::new(
                    Box::new(RangeQuery::new(lo, hi)),
                    0.0,
                )))
            }
        })
    }

    fn field_and_stemmed(&self, target: Target) -> (Field, bool) {
        match target {
            Target::All => (self.fields.all, true),
            Target::Subject => (self.fields.subject, true),
            Target::Exact => (self.fields.all_exact, false),
            Target::From => (self.fields.from, false),
            Target::To => (self.fields.to, false),
        }
    }

    fn term(
        &mut self,
        target: Target,
        kind: &TermKind,
        pos: usize,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let (field, stemmed) = self.field_and_stemmed(target);
        let highlight_body = !negated && matches!(target, Target::All | Target::Exact);
        match kind {
            TermKind::Word(w) | TermKind::Phrase(w) => {
                let analyzer = if stemmed {
                    &mut self.dutch
                } else {
                    &mut self.exact
                };
                let terms = analysis::terms(analyzer, w);
                if highlight_body {
                    let set = if stemmed {
                        &mut self.highlight.stemmed
                    } else {
                        &mut self.highlight.exact
                    };
                    set.extend(terms.iter().cloned());
                }
                Ok(match terms.len() {
                    0 => None,
                    1 => Some(Box::new(TermQuery::new(
                        Term::from_field_text(field, &terms[0]),
                        IndexRecordOption::WithFreqs,
                    ))),
                    n if n > self.limits.max_phrase_words => {
                        return Err(qerr(
                            pos,
                            "phrase is too long",
                            "search for a shorter, distinctive part of the phrase",
                        ));
                    }
                    _ => Some(Box::new(PhraseQuery::new(
                        terms
                            .iter()
                            .map(|t| Term::from_field_text(field, t))
                            .collect(),
                    ))),
                })
            }
            TermKind::Prefix(p) | TermKind::Fuzzy(p, _) => {
                let terms = analysis::terms(&mut self.exact, p);
                let [one] = terms.as_slice() else {
                    return Err(qerr(
                        pos,
                        format!("`{p}` is not one word"),
                        "prefix and fuzzy search work on a single word (letters and digits)",
                    ));
                };
                let field = match target {
                    Target::All => self.fields.all_exact,
                    _ => field,
                };
                if let TermKind::Fuzzy(_, d) = kind {
                    if highlight_body {
                        self.highlight.exact.insert(one.clone());
                    }
                    return Ok(Some(Box::new(FuzzyTermQuery::new(
                        Term::from_field_text(field, one),
                        *d,
                        true,
                    ))));
                }
                if highlight_body {
                    self.highlight.prefixes.insert(one.clone());
                }
                let expanded = self.expand_prefix(field, one, pos)?;
                if expanded.is_empty() {
                    // Nothing starts with it: a query that matches nothing.
                    return Ok(Some(Box::new(TermSetQuery::new(Vec::<Term>::new()))));
                }
                Ok(Some(Box::new(TermSetQuery::new(expanded))))
            }
        }
    }

    /// The distinct index terms that start with `prefix`, refused beyond the limit.
    fn expand_prefix(
        &self,
        field: Field,
        prefix: &str,
        pos: usize,
    ) -> Result<Vec<Term>, SearchError> {
        let mut found: BTreeSet<Vec<u8>> = BTreeSet::new();
        let max = self.limits.max_prefix_expansions;
        for seg in self.searcher.segment_readers() {
            let inv = seg.inverted_index(field)?;
            let mut stream = inv
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| SearchError::io("term dictionary", e))?;
            while stream.advance() {
                let k = stream.key();
                if !k.starts_with(prefix.as_bytes()) {
                    break;
                }
                if !found.contains(k) {
                    found.insert(k.to_vec());
                    if found.len() > max {
                        return Err(qerr(
                            pos,
                            format!("`{prefix}*` matches more than {max} different words"),
                            "type more letters before the *",
                        ));
                    }
                }
            }
        }
        Ok(found
            .into_iter()
            .map(|k| Term::from_field_text(field, &String::from_utf8_lossy(&k)))
            .collect())
    }
}
