//! Stratified group k-fold cross-validation of the whole classifier (model and rules).
//!
//! Folds are made of *groups*, never of single messages: messages written from the same
//! phrasing share a group and so always land on the same side of a split, and the figures
//! measure how well the classifier does on phrasings it has not seen. Groups are
//! stratified by their labels (relevance, topic, Woo request) and dealt round-robin, so
//! every fold holds every label in about the same share.

use crate::data::Example;
use crate::labels::{Topic, WooRelevance};
use crate::linear::TrainOptions;
use crate::model::{Classification, Classifier};
use crate::train::{input, train};
use std::collections::BTreeMap;

pub const DEFAULT_FOLDS: usize = 5;

/// A square confusion matrix: `counts[truth][predicted]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub labels: Vec<String>,
    pub counts: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

impl Confusion {
    pub fn new(labels: Vec<String>) -> Confusion {
        let k = labels.len();
        Confusion {
            labels,
            counts: vec![vec![0; k]; k],
        }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    pub fn scores(&self, class: usize) -> Scores {
        let tp = self.counts[class][class] as f64;
        let predicted: usize = self.counts.iter().map(|r| r[class]).sum();
        let support: usize = self.counts[class].iter().sum();
        let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Scores {
            precision,
            recall,
            f1,
            support,
        }
    }

    /// Mean F1 over the labels that occur.
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<f64> = (0..self.labels.len())
            .map(|c| self.scores(c))
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .collect();
        present.iter().sum::<f64>() / present.len().max(1) as f64
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }
}

/// What a hard case is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    WooRequest,
    Relevance,
    Special,
    Bsn,
}

pub fn hard_case_judged_on(tag: &str) -> Judged {
    match tag {
        "persoonlijk_met_gemeente" | "spam_noemt_gemeente" => Judged::Relevance,
        "geen_bijzonder_gegeven" => Judged::Special,
        "geen_bsn" => Judged::Bsn,
        _ => Judged::WooRequest,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub folds: usize,
    pub examples: usize,
    pub groups: usize,
    pub relevance: Confusion,
    pub topic: Confusion,
    pub woo_request: Confusion,
    pub special: Confusion,
    pub bsn: Confusion,
    /// Per hard-case tag: (correct, total).
    pub hard_cases: BTreeMap<String, (usize, usize)>,
    /// Held-out Woo requests the explicit-phrase rules caught / all held-out requests.
    pub woo_by_rule: (usize, usize),
}

/// Fold number per group, stratified by label and deterministic.
pub fn assign_folds(examples: &[Example], k: usize) -> BTreeMap<String, usize> {
    let mut strata: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in examples {
        if seen.insert(e.group.as_str()) {
            let key = format!("{}/{}/{}", e.woo_relevance, e.topic, e.woo_request);
            strata.entry(key).or_default().push(&e.group);
        }
    }
    let mut folds = BTreeMap::new();
    let mut next = 0usize;
    for groups in strata.values() {
        for g in groups {
            folds.insert((*g).to_owned(), next % k);
            next += 1;
        }
    }
    folds
}

fn yes_no() -> Vec<String> {
    vec!["nee".into(), "ja".into()]
}

pub fn cross_validate(examples: &[Example], k: usize, opts: &TrainOptions) -> EvalReport {
    let folds = assign_folds(examples, k);
    let names = |all: &[&str]| all.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut report = EvalReport {
        folds: k,
        examples: examples.len(),
        groups: folds.len(),
        relevance: Confusion::new(names(
            &WooRelevance::ALL
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>(),
        )),
        topic: Confusion::new(names(
            &Topic::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        )),
        woo_request: Confusion::new(yes_no()),
        special: Confusion::new(yes_no()),
        bsn: Confusion::new(yes_no()),
        hard_cases: BTreeMap::new(),
        woo_by_rule: (0, 0),
    };
    for fold in 0..k {
        let in_fold = |e: &&Example| folds.get(&e.group) == Some(&fold);
        let training: Vec<Example> = examples.iter().filter(|e| !in_fold(e)).cloned().collect();
        let mut classifier = Classifier::new(train(&training, opts));
        for e in examples.iter().filter(in_fold) {
            let c = classifier.classify(&input(e));
            record(&mut report, e, &c);
        }
    }
    report
}

fn record(r: &mut EvalReport, e: &Example, c: &Classification) {
    r.relevance
        .add(e.woo_relevance.index(), c.woo_relevance.index());
    r.topic.add(e.topic.index(), c.topic.index());
    r.woo_request
        .add(usize::from(e.woo_request), usize::from(c.woo_request));
    let truth_special = !e.special_categories.is_empty();
    r.special
        .add(usize::from(truth_special), usize::from(c.special_data));
    r.bsn.add(usize::from(e.bsn), usize::from(c.bsn));
    if e.woo_request {
        r.woo_by_rule.1 += 1;
        if c.rules
            .iter()
            .any(|x| x.starts_with("woo_") || x.starts_with("verzoek_"))
        {
            r.woo_by_rule.0 += 1;
        }
    }
    if let Some(tag) = &e.hard_case {
        let ok = match hard_case_judged_on(tag) {
            Judged::WooRequest => e.woo_request == c.woo_request,
            Judged::Relevance => e.woo_relevance == c.woo_relevance,
            Judged::Special => truth_special == c.special_data,
            Judged::Bsn => e.bsn == c.bsn,
        };
        let entry = r.hard_cases.entry(tag.clone()).or_default();
        entry.0 += usize::from(ok);
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_their_definitions() {
        let mut c = Confusion::new(yes_no());
        // 8 true negatives, 2 false positives, 1 false negative, 9 true positives.
        for _ in 0..8 {
            c.add(0, 0);
        }
        for _ in 0..2 {
            c.add(0, 1);
        }
        c.add(1, 0);
        for _ in 0..9 {
            c.add(1, 1);
        }
        let s = c.scores(1);
        assert!((s.precision - 9.0 / 11.0).abs() < 1e-9);
        assert!((s.recall - 0.9).abs() < 1e-9);
        assert_eq!(s.support, 10);
        assert_eq!(c.total(), 20);
    }
}
