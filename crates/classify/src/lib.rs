//! Classification of messages for loket: Woo relevance, routing topic, special personal
//! data (ground 5.1.1d), BSN (ground 5.1.1e) and Woo-request detection.
//!
//! A linear model (multinomial logistic regression, [`linear`]) over the search index's
//! Dutch analysis ([`features`]), plus rules where they are clearer ([`rules`]); trained
//! from `data/classification` ([`train`]), evaluated by stratified group k-fold
//! cross-validation ([`eval`]), described for the Algoritmeregister ([`card`]). Everything
//! but [`data`] (reading the training files) is pure.

pub mod card;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod labels;
pub mod linear;
pub mod model;
pub mod report;
pub mod rules;
pub mod train;

pub use data::Example;
pub use error::{ClassifyError, Result};
pub use features::MessageInput;
pub use labels::{SpecialCategory, Topic, WooRelevance};
pub use model::{Classification, Classifier, Contribution, Model, SHIPPED_MODEL};
