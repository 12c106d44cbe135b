//! The trained model (what the model file holds) and the classifier that applies it
//! together with the rules. No I/O: the shipped model is compiled in.

use crate::error::{ClassifyError, Result};
use crate::features::{Analysed, Featurizer, MessageInput, feature_names};
use crate::labels::{GROUND_IDENTIFIER, GROUND_SPECIAL_DATA, SpecialCategory, Topic, WooRelevance};
use crate::linear::LinearHead;
use crate::rules::{self, Lexicon};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The model file shipped in the repository, trained from `data/classification` by
/// `loket classify train` (a test checks it is exactly what training produces).
pub const SHIPPED_MODEL: &str = include_str!("../model/model.json");

/// How many contributing features a classification records per head.
pub const TOP_FEATURES: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `linear-1+<first 12 hex of the SHA-256 of the training data>`.
    pub version: String,
    pub trained_on: usize,
    /// Feature names; a feature's index is its row in every head.
    pub features: Vec<String>,
    pub relevance: LinearHead,
    pub topic: LinearHead,
    pub woo_request: LinearHead,
    pub special: LinearHead,
    /// A Woo request is flagged from this probability on (below 0.5: a missed request
    /// costs a legal deadline, a false alarm a minute of an FOI officer).
    pub woo_request_threshold: f32,
}

impl Model {
    pub fn from_json(s: &str) -> Result<Model> {
        let m: Model =
            serde_json::from_str(s).map_err(|e| ClassifyError::BadModel(e.to_string()))?;
        let n = m.features.len();
        let heads = [
            (&m.relevance, WooRelevance::ALL.len()),
            (&m.topic, Topic::ALL.len()),
            (&m.woo_request, 2),
            (&m.special, 2),
        ];
        for (h, k) in heads {
            if h.classes.len() != k || h.bias.len() != k || h.weights.len() != n * k {
                return Err(ClassifyError::BadModel(format!(
                    "head {:?} does not match {n} features × {k} classes",
                    h.classes
                )));
            }
        }
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and finite floats cannot fail.
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }
}

/// One feature's push towards the decision of a head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub head: String,
    pub feature: String,
    pub weight: f32,
}

/// Everything decided about one message, as stored in a classification event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub model_version: String,
    pub woo_relevance: WooRelevance,
    pub woo_relevance_confidence: f32,
    pub topic: Topic,
    pub topic_confidence: f32,
    pub woo_request: bool,
    /// The model's probability that this is a Woo request (1.0 when a rule decided).
    pub woo_request_confidence: f32,
    /// Special personal data (model), with the categories the lexicon names.
    pub special_data: bool,
    pub special_confidence: f32,
    pub special_categories: Vec<SpecialCategory>,
    pub bsn: bool,
    /// Refusal grounds the findings hint at (`5.1.1d`, `5.1.1e`), for the FOI officer.
    pub grounds: Vec<String>,
    pub top_features: Vec<Contribution>,
    /// Names of the rules that fired (`rules::RULE_*`).
    pub rules: Vec<String>,
}

/// The model plus the analyzers and lexicon; cheap to clone (one per thread).
#[derive(Clone)]
pub struct Classifier {
    model: Arc<Model>,
    index: Arc<FxHashMap<String, u32>>,
    lexicon: Arc<Lexicon>,
    featurizer: Featurizer,
}

impl Classifier {
    pub fn new(model: Model) -> Classifier {
        let index = model
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i as u32))
            .collect();
        let mut featurizer = Featurizer::default();
        let lexicon = Lexicon::new(&mut featurizer);
        Classifier {
            model: Arc::new(model),
            index: Arc::new(index),
            lexicon: Arc::new(lexicon),
            featurizer,
        }
    }

    /// The model compiled into this build.
    pub fn shipped() -> Result<Classifier> {
        Ok(Classifier::new(Model::from_json(SHIPPED_MODEL)?))
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The feature indices of a message that the model knows.
    pub fn encode(&self, m: &MessageInput<'_>, a: &Analysed) -> Vec<u32> {
        let mut doc: Vec<u32> = feature_names(m, a)
            .iter()
            .filter_map(|f| self.index.get(f).copied())
            .collect();
        doc.sort_unstable();
        doc
    }

    pub fn classify(&mut self, m: &MessageInput<'_>) -> Classification {
        let a = self.featurizer.analyse(m);
        let doc = self.encode(m, &a);
        let model = &*self.model;
        let mut rules_fired = Vec::new();
        let mut top = Vec::new();
        let explain = |head: &LinearHead, name: &str, class: usize, top: &mut Vec<_>| {
            for (f, w) in head.contributions(&doc, class, TOP_FEATURES) {
                top.push(Contribution {
                    head: name.to_owned(),
                    feature: model.features[f as usize].clone(),
                    weight: (w * 1000.0).round() / 1000.0,
                });
            }
        };

        let (rel_i, rel_p) = argmax(&model.relevance.probabilities(&doc));
        let woo_relevance = WooRelevance::ALL[rel_i];
        explain(&model.relevance, "woo_relevance", rel_i, &mut top);

        let (mut topic_i, mut topic_p) = argmax(&model.topic.probabilities(&doc));
        if woo_relevance != WooRelevance::PubliekeTaak {
            // Personal messages and spam are not routed: their topic is `overig`.
            rules_fired.push(rules::RULE_NOT_PUBLIC_TASK.to_owned());
            topic_i = Topic::Overig.index();
            topic_p = rel_p;
        } else {
            explain(&model.topic, "topic", topic_i, &mut top);
        }

        let woo_p = model.woo_request.probabilities(&doc)[1];
        let (woo_request, woo_conf) = if !m.is_inbound() {
            rules_fired.push(rules::RULE_OUTBOUND.to_owned());
            (false, 1.0 - woo_p)
        } else if let Some(rule) = rules::woo_request_phrase(&a.words) {
            rules_fired.push(rule.to_owned());
            (true, 1.0)
        } else {
            let yes = woo_p >= model.woo_request_threshold;
            (yes, if yes { woo_p } else { 1.0 - woo_p })
        };
        if woo_request {
            explain(&model.woo_request, "woo_request", 1, &mut top);
        }

        let special_p = model.special.probabilities(&doc)[1];
        let named = self.lexicon.categories(&a.stems);
        if !named.is_empty() {
            rules_fired.push(rules::RULE_SPECIAL_LEXICON.to_owned());
        }
        // Either the model or the lexicon suffices: a missed health condition leaks
        // special data, a false hint costs the FOI officer a look.
        let special_data = special_p >= 0.5 || !named.is_empty();
        let special_categories = if special_data { named } else { Vec::new() };
        if special_p >= 0.5 {
            explain(&model.special, "special_data", 1, &mut top);
        }
        let bsn = rules::find_bsn(m.text).is_some()
            || m.subject.is_some_and(|s| rules::find_bsn(s).is_some());
        if bsn {
            rules_fired.push(rules::RULE_BSN.to_owned());
        }
        let mut grounds = Vec::new();
        if special_data {
            grounds.push(GROUND_SPECIAL_DATA.to_owned());
        }
        if bsn {
            grounds.push(GROUND_IDENTIFIER.to_owned());
        }
        Classification {
            model_version: model.version.clone(),
            woo_relevance,
            woo_relevance_confidence: round3(rel_p),
            topic: Topic::ALL[topic_i],
            topic_confidence: round3(topic_p),
            woo_request,
            woo_request_confidence: round3(woo_conf),
            special_data,
            special_confidence: round3(if special_data {
                special_p
            } else {
                1.0 - special_p
            }),
            special_categories,
            bsn,
            grounds,
            top_features: top,
            rules: rules_fired,
        }
    }
}

fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 { (i, v) } else { best }
        })
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}
