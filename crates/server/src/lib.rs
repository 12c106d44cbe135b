//! The actix-web application: API, webchat, health, metrics and the wiring of the
//! background consumers. `loket serve` calls [`run`]; tests call `testing::spawn_app`
//! (feature `testing`).

pub mod auth;
pub mod config;
pub mod inbox;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod relay;
pub mod routes;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

use actix_web::dev::Service;
use actix_web::{App, HttpServer, middleware, web};
pub use config::Settings;
use loket_core::{LiveBus, Role};
use loket_store::{Store, StoreOptions};
use std::net::TcpListener;
use std::sync::Arc;
use tokio::sync::watch;

/// The `API-Version` header (NL API Design Rules).
pub const API_VERSION: &str = "1.0.0";

/// Shared by every handler.
pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub metrics: metrics::Metrics,
    pub bus: Arc<dyn LiveBus>,
    /// `None` when the node runs without search (tests of other parts).
    pub search: Option<loket_search::SearchService>,
    /// Clerks with the inbox open, per tenant: the same handle the web chat reads for
    /// its "nobody online" rule (`start_with` hands one counter to both).
    pub presence: loket_webchat::ClerkPresence,
}

/// Optional services `start_with` wires in; `run` starts them all.
#[derive(Default)]
pub struct Services {
    pub search: Option<loket_search::SearchService>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the database at {url}: {source}")]
    Database {
        url: String,
        source: loket_store::StoreError,
    },
    #[error(transparent)]
    Store(#[from] loket_store::StoreError),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("search: {0}")]
    Search(#[from] loket_search::SearchError),
    #[error("mail: {0}")]
    Mail(#[from] loket_mail::MailError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Opens the store as configured (creating the data dir and the audit key on first start).
pub async fn open_store(settings: &Settings) -> Result<Store, ServerError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let key = settings.load_or_create_audit_key()?;
    let url = settings.database_url();
    Store::open(
        &url,
        StoreOptions {
            pool_size: settings.database.pool_size,
            audit_key: key,
            ..StoreOptions::default()
        },
    )
    .await
    .map_err(|source| ServerError::Database {
        url: redact_url(&url),
        source,
    })
}

/// Hides a password in a database URL before it is printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// What `loket serve` prints for a new user.
pub struct DemoInfo {
    pub tenant: String,
    pub token: Option<String>,
}

/// On an empty database: the tenant `demo` and an admin token (saved to
/// `<data_dir>/demo-admin-token`, readable only by the owner).
pub async fn ensure_demo(
    store: &Store,
    settings: &Settings,
) -> Result<Option<DemoInfo>, ServerError> {
    if !settings.demo.enabled {
        return Ok(None);
    }
    if store.tenant_by_slug("demo").await?.is_some() || !store.tenants().await?.is_empty() {
        return Ok(store.tenant_by_slug("demo").await?.map(|t| DemoInfo {
            tenant: t.slug,
            token: None,
        }));
    }
    let t = store.create_tenant("demo", "Gemeente Demodorp").await?;
    let token = store.create_token(t.id, "demo admin", Role::Admin).await?;
    // The demo tenant receives mail for demo.localhost over the SMTP receiver.
    store
        .set_channel_setting(
            t.id,
            loket_core::Channel::Email,
            loket_mail::keys::DOMAINS,
            serde_json::json!(["demo.localhost"]),
        )
        .await?;
    store
        .set_channel_setting(
            t.id,
            loket_core::Channel::Email,
            loket_mail::keys::ADDRESSES,
            serde_json::json!(["info@demo.localhost"]),
        )
        .await?;
    config::write_private(
        &settings.data_dir.join("demo-admin-token"),
        token.secret.as_bytes(),
    )?;
    Ok(Some(DemoInfo {
        tenant: t.slug,
        token: Some(token.secret),
    }))
}

/// A running server (tests and `loket serve`).
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub store: Store,
    pub server: actix_web::dev::ServerHandle,
    pub shutdown: watch::Sender<bool>,
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Waits for the HTTP server to stop (SIGTERM/SIGINT or `server.stop`), then stops
    /// the background tasks.
    pub async fn wait(self) -> std::io::Result<()> {
        let r = self.join.await.map_err(std::io::Error::other)?;
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        r
    }
}

/// Builds and starts the HTTP server on `listener` with background consumers.
pub fn start(
    store: Store,
    settings: Settings,
    listener: TcpListener,
) -> Result<Running, ServerError> {
    start_with(store, settings, listener, Services::default())
}

/// Opens the search service and starts its indexer.
pub async fn open_search(
    store: &Store,
    settings: &Settings,
) -> Result<loket_search::SearchService, ServerError> {
    Ok(loket_search::SearchService::open(
        store.clone(),
        &settings.data_dir,
        settings.search.clone(),
    )
    .await?)
}

/// Like [`start`], with the optional services.
pub fn start_with(
    store: Store,
    settings: Settings,
    listener: TcpListener,
    services: Services,
) -> Result<Running, ServerError> {
    let addr = listener.local_addr()?;
    let bus: Arc<dyn LiveBus> = Arc::new(loket_store::live::BroadcastBus::new());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let tasks = vec![relay::spawn(
        store.clone(),
        bus.clone(),
        shutdown_rx.clone(),
    )];
    let presence = loket_webchat::ClerkPresence::new();
    let webchat = loket_webchat::WebchatState::new(
        store.clone(),
        bus.clone(),
        settings.webchat.clone(),
        presence.clone(),
    );
    let mut tasks = tasks;
    if let Some(search) = &services.search {
        let search = search.clone();
        let rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            if let Ok(Err(e)) = search.spawn_indexer(rx).await {
                tracing::error!(error = %e, "the indexer stopped");
            }
        }));
    }
    let state = web::Data::new(AppState {
        search: services.search.clone(),
        store: store.clone(),
        metrics: metrics::Metrics::new()?,
        bus,
        settings: settings.clone(),
        presence,
    });
    let sms = loket_sms::SmsState::new(
        store.clone(),
        settings.sms.clone(),
        settings.http.public_url.clone(),
    );
    let max_body = settings.http.max_body_bytes;
    let server = HttpServer::new(move || {
        let st = state.clone();
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(problem::json_error),
            )
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("API-Version", API_VERSION))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "no-referrer")),
            )
            .wrap_fn(move |req, srv| {
                let started = std::time::Instant::now();
                let method = req.method().as_str().to_owned();
                let st = st.clone();
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    st.metrics.request(
                        &method,
                        res.status().as_u16(),
                        started.elapsed().as_secs_f64(),
                    );
                    Ok(res)
                }
            })
            .wrap(tracing_actix_web::TracingLogger::<telemetry::PrivateRootSpan>::new())
            .route("/health/live", web::get().to(routes::health::live))
            .route("/health/ready", web::get().to(routes::health::ready))
            .route("/metrics", web::get().to(routes::health::metrics))
            .route("/api/v1/openapi.json", web::get().to(openapi::openapi))
            .route(
                "/api/v1/messages",
                web::post().to(routes::api::post_message),
            )
            .route(
                "/api/v1/messages/{id}",
                web::get().to(routes::api::get_message),
            )
            .route(
                "/api/v1/conversations/{id}",
                web::get().to(routes::api::get_conversation),
            )
            .route(
                "/api/v1/conversations/{id}/replies",
                web::post().to(routes::api::post_reply),
            )
            .route("/api/v1/imports", web::post().to(routes::api::post_import))
            .route("/api/v1/search", web::get().to(routes::search::search))
            .route(
                "/api/v1/search/export",
                web::get().to(routes::search::export),
            )
            .configure(inbox::configure)
            .configure(|c| loket_sms::http::configure(c, sms.clone()))
            .route("/api/{tail:.*}", web::route().to(routes::api::not_found))
            .configure(|c| loket_webchat::configure(c, webchat.clone()))
            .route(
                "/",
                web::get().to(|| async {
                    actix_web::HttpResponse::Found()
                        .insert_header(("Location", "/demo"))
                        .finish()
                }),
            )
    })
    .shutdown_timeout(settings.http.shutdown_timeout_secs)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let join = tokio::spawn(server);
    Ok(Running {
        addr,
        store,
        server: handle,
        shutdown: shutdown_tx,
        join,
        tasks,
    })
}

/// `loket serve`: open, migrate, demo tenant, bind, run until SIGTERM.
pub async fn run(settings: Settings) -> Result<(), ServerError> {
    let store = open_store(&settings).await?;
    let demo = ensure_demo(&store, &settings).await?;
    let listener = TcpListener::bind(&settings.http.bind).map_err(|source| ServerError::Bind {
        addr: settings.http.bind.clone(),
        source,
    })?;
    let search = open_search(&store, &settings).await?;
    let running = start_with(
        store.clone(),
        settings.clone(),
        listener,
        Services {
            search: Some(search),
        },
    )?;
    let mail =
        loket_mail::spawn(store, settings.smtp.clone(), running.shutdown.subscribe()).await?;
    let base = if settings.http.public_url.is_empty() {
        format!("http://{}", running.addr)
    } else {
        settings.http.public_url.clone()
    };
    println!("loket is running on {base}");
    println!("  demo page (citizen widget): {base}/demo");
    println!("  API (OpenAPI 3):            {base}/api/v1/openapi.json");
    println!("  health:                     {base}/health/ready");
    println!(
        "  database:                   {}",
        redact_url(&settings.database_url())
    );
    if let Some(token) = demo.and_then(|d| d.token) {
        println!("  demo admin API token:       {token}");
        println!(
            "    (saved in {})",
            settings.data_dir.join("demo-admin-token").display()
        );
    }
    if let Some(a) = mail.smtp_local_addr() {
        println!("  SMTP receiver:              {a}");
    }
    running.wait().await?;
    mail.join().await;
    tracing::info!("loket stopped");
    Ok(())
}
