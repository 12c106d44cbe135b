//! The shipped data, model and documents: quality targets on held-out folds, the model
//! file is what training produces, the generated documents are current, and the
//! decisions the law cares about.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
use loket_classify::eval::{EvalReport, cross_validate};
use loket_classify::linear::TrainOptions;
use loket_classify::{Classifier, Example, MessageInput, Topic, data, train};
use std::path::Path;
use std::sync::OnceLock;

fn examples() -> &'static [Example] {
    static E: OnceLock<Vec<Example>> = OnceLock::new();
    E.get_or_init(|| data::load_dir(&data::repository_data_dir()).expect("training data"))
}

fn report() -> &'static EvalReport {
    static R: OnceLock<EvalReport> = OnceLock::new();
    R.get_or_init(|| cross_validate(examples(), 5, &TrainOptions::default()))
}

fn repo_file(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_data_covers_every_label_and_hard_case() {
    let ex = examples();
    assert!(ex.len() >= 1500, "{} messages", ex.len());
    for t in Topic::ALL {
        assert!(ex.iter().filter(|e| e.topic == *t).count() >= 50, "{t}");
    }
    for tag in [
        "persoonlijk_met_gemeente",
        "klacht_vraagt_stukken",
        "info_niet_woo",
        "woo_zonder_woo",
    ] {
        assert!(
            ex.iter()
                .filter(|e| e.hard_case.as_deref() == Some(tag))
                .count()
                >= 20,
            "{tag}"
        );
    }
    assert!(ex.iter().any(|e| e.bsn) && ex.iter().any(|e| !e.special_categories.is_empty()));
    assert!(ex.iter().any(|e| e.lang == "en") && ex.iter().any(|e| e.direction == "outbound"));
}

#[test]
fn no_group_is_split_across_folds() {
    let folds = loket_classify::eval::assign_folds(examples(), 5);
    for e in examples() {
        assert!(folds.contains_key(&e.group));
    }
    let mut sizes = [0usize; 5];
    for e in examples() {
        sizes[folds[&e.group]] += 1;
    }
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(
        max - min < examples().len() / 10,
        "unbalanced folds {sizes:?}"
    );
}

#[test]
fn cross_validated_quality_meets_the_targets() {
    let r = report();
    let rel = r.relevance.macro_f1();
    let topic = r.topic.macro_f1();
    let woo = r.woo_request.scores(1);
    assert!(rel >= 0.85, "Woo relevance macro-F1 {rel:.3}");
    assert!(topic >= 0.80, "topic macro-F1 {topic:.3}");
    assert!(woo.recall >= 0.97, "Woo-request recall {:.3}", woo.recall);
    assert!(
        woo.precision >= 0.85,
        "Woo-request precision {:.3}",
        woo.precision
    );
}

#[test]
fn shipped_model_is_what_training_on_the_shipped_data_produces() {
    let model = train::train(examples(), &TrainOptions::default());
    assert!(
        model.to_json() == loket_classify::SHIPPED_MODEL,
        "crates/classify/model/model.json is stale: run `loket classify train`"
    );
}

#[test]
fn generated_documents_are_current() {
    let version = train::version(examples());
    let md = loket_classify::report::markdown(report(), examples(), &version);
    assert!(
        md == repo_file("docs/classification.md"),
        "docs/classification.md is stale: run `loket classify eval`"
    );
    let card = loket_classify::card::markdown(report(), &version);
    assert!(
        card == repo_file("docs/algoritmeregister.md"),
        "docs/algoritmeregister.md is stale: run `loket classify card`"
    );
}

fn chat(text: &str) -> MessageInput<'_> {
    MessageInput {
        channel: "webchat",
        direction: "inbound",
        subject: None,
        text,
    }
}

#[test]
fn a_woo_request_by_chat_is_caught_and_explained() {
    let mut c = Classifier::shipped().expect("shipped model");
    let k = c.classify(&chat(
        "Graag ontvang ik op grond van de Woo alle stukken over de herinrichting van het Stationsplein",
    ));
    assert!(k.woo_request);
    assert!(
        k.rules
            .iter()
            .any(|r| r == loket_classify::rules::RULE_WOO_LEGAL_BASIS)
    );
    assert_eq!(k.model_version, c.model().version);
    assert_eq!(k.woo_relevance, loket_classify::WooRelevance::PubliekeTaak);
    assert!(k.woo_relevance_confidence > 0.5);
    assert!(!k.top_features.is_empty());
    // The same words as an outbound answer or a how-to question are no request.
    let mut out = chat("Uw verzoek op grond van de Woo over het Stationsplein is ontvangen.");
    out.direction = "outbound";
    assert!(!c.classify(&out).woo_request);
    assert!(
        !c.classify(&chat("Hoe dien ik een Woo-verzoek in?"))
            .woo_request
    );
}

#[test]
fn sensitivity_hints_name_their_grounds() {
    let mut c = Classifier::shipped().expect("shipped model");
    let k = c.classify(&chat("Mijn BSN is 111222333, waar blijft mijn uitkering?"));
    assert!(k.bsn && k.grounds.contains(&"5.1.1e".to_owned()), "{k:?}");
    let k = c.classify(&chat(
        "Mijn klantnummer is 111222333, waar blijft mijn uitkering?",
    ));
    assert!(!k.bsn && !k.grounds.contains(&"5.1.1e".to_owned()));
    let k = c.classify(&chat(
        "Door mijn depressie kom ik de deur niet uit, kan ik begeleiding krijgen?",
    ));
    assert!(
        k.special_data && k.grounds.contains(&"5.1.1d".to_owned()),
        "{k:?}"
    );
    assert!(
        k.special_categories
            .contains(&loket_classify::SpecialCategory::Gezondheid)
    );
}

#[test]
fn personal_messages_and_spam_are_not_routed() {
    let mut c = Classifier::shipped().expect("shipped model");
    let k = c.classify(&MessageInput {
        channel: "sms",
        direction: "inbound",
        subject: None,
        text: "Claim nu een gratis iPhone! Klik op http://win-nu.xyz/claim",
    });
    assert_eq!(k.woo_relevance, loket_classify::WooRelevance::Spam);
    assert_eq!(k.topic, Topic::Overig);
}
