//! The labelled messages of `data/classification/*.jsonl` (format: that directory's
//! README). Reading files is the only I/O of this crate.

use crate::error::{ClassifyError, Result};
use crate::labels::{SpecialCategory, Topic, WooRelevance};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub id: String,
    /// The fold group: messages written from the same phrasing share it and are never
    /// split between training and test.
    pub group: String,
    pub channel: String,
    pub direction: String,
    pub lang: String,
    pub subject: Option<String>,
    pub text: String,
    pub woo_relevance: WooRelevance,
    pub topic: Topic,
    pub woo_request: bool,
    pub special_categories: Vec<SpecialCategory>,
    pub bsn: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_case: Option<String>,
}

/// The training data directory of this repository.
pub fn repository_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/classification")
}

/// Reads every `*.jsonl` file of `dir`, in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Example>> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ClassifyError::Io { path, source }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ClassifyError::NoData(dir.to_owned()));
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(io(&f))?;
        out.extend(parse_jsonl(&f, &text)?);
    }
    Ok(out)
}

pub fn parse_jsonl(path: &Path, text: &str) -> Result<Vec<Example>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| ClassifyError::BadExample {
                path: path.to_owned(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}
