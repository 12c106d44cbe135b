use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    BadExample {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no training data (*.jsonl) in {0}")]
    NoData(PathBuf),
    #[error("model file: {0}")]
    BadModel(String),
    #[error("unknown {kind} `{value}`")]
    UnknownLabel { kind: &'static str, value: String },
}

pub type Result<T> = std::result::Result<T, ClassifyError>;
