//! `loket classify train|eval|card`: train the shipped model, measure it, describe it.
//! These need no database: they read `data/classification` and write repository files.

use anyhow::{Context, Result};
use clap::Subcommand;
use loket_classify::{data, eval, linear::TrainOptions, train};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ClassifyCommand {
    /// Train the model from the labelled messages and write the model file (shipped in
    /// the repository and compiled into the next build).
    Train {
        #[arg(long, default_value = "data/classification")]
        data: PathBuf,
        #[arg(long, default_value = "crates/classify/model/model.json")]
        out: PathBuf,
    },
    /// Stratified group k-fold cross-validation: precision, recall, F1 per label and the
    /// confusion matrices, printed and written to docs/classification.md.
    Eval {
        #[arg(long, default_value = "data/classification")]
        data: PathBuf,
        #[arg(long, default_value = "docs/classification.md")]
        out: PathBuf,
        #[arg(long, default_value_t = eval::DEFAULT_FOLDS)]
        folds: usize,
    },
    /// Write the Algoritmeregister entry (docs/algoritmeregister.md) with the measured quality.
    Card {
        #[arg(long, default_value = "data/classification")]
        data: PathBuf,
        #[arg(long, default_value = "docs/algoritmeregister.md")]
        out: PathBuf,
    },
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub fn run(command: ClassifyCommand) -> Result<()> {
    let opts = TrainOptions::default();
    match command {
        ClassifyCommand::Train { data: dir, out } => {
            let examples = data::load_dir(&dir)?;
            let model = train::train(&examples, &opts);
            write(&out, &model.to_json())?;
            println!(
                "model {} trained on {} messages, {} features",
                model.version,
                model.trained_on,
                model.features.len()
            );
        }
        ClassifyCommand::Eval {
            data: dir,
            out,
            folds,
        } => {
            anyhow::ensure!(folds >= 2, "--folds must be at least 2");
            let examples = data::load_dir(&dir)?;
            let report = eval::cross_validate(&examples, folds, &opts);
            let md =
                loket_classify::report::markdown(&report, &examples, &train::version(&examples));
            print!("{md}");
            write(&out, &md)?;
        }
        ClassifyCommand::Card { data: dir, out } => {
            let examples = data::load_dir(&dir)?;
            let report = eval::cross_validate(&examples, eval::DEFAULT_FOLDS, &opts);
            write(
                &out,
                &loket_classify::card::markdown(&report, &train::version(&examples)),
            )?;
        }
    }
    Ok(())
}
