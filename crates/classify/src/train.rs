//! Training: examples in, a [`Model`] out. Pure and deterministic.

use crate::data::Example;
use crate::features::{Featurizer, MessageInput, feature_names};
use crate::labels::{Topic, WooRelevance};
use crate::linear::{LinearHead, SparseDoc, TrainOptions};
use crate::model::Model;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

/// A feature must occur in this many training messages to enter the model: a word seen
/// once is more likely a typo or a name than evidence.
pub const MIN_DOCUMENT_FREQUENCY: usize = 2;
pub const WOO_REQUEST_THRESHOLD: f32 = 0.2;

pub fn input(e: &Example) -> MessageInput<'_> {
    MessageInput {
        channel: &e.channel,
        direction: &e.direction,
        subject: e.subject.as_deref(),
        text: &e.text,
    }
}

/// The model version for a training set: it changes whenever the data does.
pub fn version(examples: &[Example]) -> String {
    let mut h = Sha256::new();
    for e in examples {
        // Serialising a plain struct of strings and bools cannot fail.
        h.update(serde_json::to_vec(e).unwrap_or_default());
        h.update(b"\n");
    }
    format!("linear-1+{}", &hex::encode(h.finalize())[..12])
}

pub fn train(examples: &[Example], opts: &TrainOptions) -> Model {
    let mut fz = Featurizer::default();
    let names: Vec<Vec<String>> = examples
        .iter()
        .map(|e| {
            let m = input(e);
            feature_names(&m, &fz.analyse(&m))
        })
        .collect();
    let mut df: FxHashMap<&str, usize> = FxHashMap::default();
    for doc in &names {
        for f in doc {
            *df.entry(f.as_str()).or_default() += 1;
        }
    }
    let mut features: Vec<String> = df
        .iter()
        .filter(|(_, n)| **n >= MIN_DOCUMENT_FREQUENCY)
        .map(|(f, _)| (*f).to_owned())
        .collect();
    features.sort();
    let index: FxHashMap<&str, u32> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i as u32))
        .collect();
    let docs: Vec<SparseDoc> = names
        .iter()
        .map(|d| {
            d.iter()
                .filter_map(|f| index.get(f.as_str()).copied())
                .collect()
        })
        .collect();
    let n = features.len();
    let classes = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let yes_no = || classes(&["nee", "ja"]);
    let head_on = |c: Vec<String>, docs: &[SparseDoc], labels: Vec<usize>| {
        let mut h = LinearHead::train(c, docs, &labels, n, opts);
        h.round();
        h
    };
    let head = |c: Vec<String>, labels: Vec<usize>| head_on(c, &docs, labels);
    // Topics route the public task: personal messages and spam get `overig` by rule, so
    // the topic head learns from public-task messages only.
    let public: Vec<usize> = (0..examples.len())
        .filter(|i| examples[*i].woo_relevance == WooRelevance::PubliekeTaak)
        .collect();
    let public_docs: Vec<SparseDoc> = public.iter().map(|i| docs[*i].clone()).collect();
    let relevance = head(
        WooRelevance::ALL
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect(),
        examples.iter().map(|e| e.woo_relevance.index()).collect(),
    );
    let topic = head_on(
        Topic::ALL.iter().map(|l| l.as_str().to_owned()).collect(),
        &public_docs,
        public.iter().map(|i| examples[*i].topic.index()).collect(),
    );
    let woo_request = head(
        yes_no(),
        examples
            .iter()
            .map(|e| usize::from(e.woo_request))
            .collect(),
    );
    let special = head(
        yes_no(),
        examples
            .iter()
            .map(|e| usize::from(!e.special_categories.is_empty()))
            .collect(),
    );
    Model {
        version: version(examples),
        trained_on: examples.len(),
        features,
        relevance,
        topic,
        woo_request,
        special,
        woo_request_threshold: WOO_REQUEST_THRESHOLD,
    }
}
