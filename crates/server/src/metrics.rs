//! Prometheus metrics (`/metrics`).

use loket_core::Channel;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    ingested: IntCounterVec,
    outbox_head: IntGauge,
    search_indexed: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("loket".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method and status"),
            &["method", "status"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["method"],
        )?;
        let ingested = IntCounterVec::new(
            Opts::new("messages_ingested_total", "Messages ingested over the API"),
            &["channel", "duplicate"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        let outbox_head = IntGauge::new(
            "outbox_head_seq",
            "Highest outbox sequence this node knows to be committed",
        )?;
        let search_indexed = IntGauge::new(
            "search_indexed_seq",
            "Every outbox entry up to this sequence is searchable on this node",
        )?;
        registry.register(Box::new(ingested.clone()))?;
        registry.register(Box::new(outbox_head.clone()))?;
        registry.register(Box::new(search_indexed.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_seconds,
            ingested,
            outbox_head,
            search_indexed,
        })
    }

    pub fn request(&self, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, &status.to_string()])
            .inc();
        self.http_seconds
            .with_label_values(&[method])
            .observe(seconds);
    }

    pub fn ingested(&self, channel: Channel, duplicate: bool) {
        self.ingested
            .with_label_values(&[channel.as_str(), if duplicate { "true" } else { "false" }])
            .inc();
    }

    /// The indexer's position against the outbox head, read when scraped: their
    /// difference is how far search lags behind what is archived.
    pub fn set_progress(&self, outbox_head: i64, search_indexed: Option<i64>) {
        self.outbox_head.set(outbox_head);
        if let Some(seq) = search_indexed {
            self.search_indexed.set(seq);
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}
