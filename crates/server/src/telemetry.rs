//! Logging and tracing. OTLP export switches on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set
//! (the standard variable; the exporter reads the rest of the OTEL_* settings itself).
//!
//! Privacy (ARCHITECTURE.md, invariant 7): the request root span records method, route and status, never
//! the client address — tracing-actix-web's default span records it, so we build our own.

use actix_web::Error;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Root span without `client_ip` / `http.client_ip` / user agent.
pub struct PrivateRootSpan;

impl RootSpanBuilder for PrivateRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        tracing::info_span!(
            "http request",
            otel.name = %format!("{} {}", request.method(), route),
            otel.kind = "server",
            http.method = %request.method(),
            http.route = %route,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        match outcome {
            Ok(resp) => {
                let status = resp.status().as_u16();
                span.record("http.status_code", status);
                if resp.status().is_server_error() {
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(e) => {
                span.record(
                    "http.status_code",
                    e.as_response_error().status_code().as_u16(),
                );
                span.record("otel.status_code", "ERROR");
            }
        }
    }
}

/// Keeps the tracer provider alive; flushes spans on drop.
pub struct TelemetryGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(Err(e)) = self.provider.take().map(|p| p.shutdown()) {
            eprintln!("telemetry: could not flush spans: {e}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot set up OTLP export: {0}")]
    Otlp(String),
}

/// Installs the global subscriber. Call once per process.
pub fn init(log_format: &str) -> Result<TelemetryGuard, TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,actix_server=warn,h2=warn,hyper=warn,reqwest=warn")
    });
    let otlp = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    let (provider, otel_layer) = match otlp {
        Some(_) => {
            use opentelemetry::trace::TracerProvider as _;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()
                .map_err(|e| TelemetryError::Otlp(e.to_string()))?;
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    opentelemetry_sdk::Resource::builder()
                        .with_service_name("loket")
                        .build(),
                )
                .build();
            let tracer = provider.tracer("loket");
            (
                Some(provider),
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
            )
        }
        None => (None, None),
    };
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let result = if log_format == "json" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    if let Err(e) = result {
        eprintln!("telemetry already initialised: {e}");
    }
    Ok(TelemetryGuard { provider })
}
