//! The citizen web chat of loket.
//!
//! * `/widget.js`, `/widget.css` — the embeddable widget (plain JS, no third-party code),
//! * `/demo` — a municipal demo page embedding the widget as a municipality would,
//! * `/webchat/v1/ws?tenant=SLUG` — the WebSocket protocol,
//! * `/webchat/v1/{info,messages,events,received,attachments}` — the REST/SSE fallback.
//!
//! Every citizen message goes through [`loket_store::Store::ingest`]; the widget's
//! "delivered" tick is sent only after that returned (after the durable commit). The
//! protocol is described in `docs/webchat-protocol.md`.
//!
//! The lead wires it with:
//! ```text
//! let presence = loket_webchat::ClerkPresence::new(); // also handed to the inbox
//! let state = loket_webchat::WebchatState::new(store, bus, cfg.webchat, presence);
//! App::new().configure(|c| loket_webchat::configure(c, state.clone()))
//! ```

mod assets;
mod chat;
pub mod config;
mod http;
pub mod presence;
pub mod problem;
pub mod protocol;
pub mod ratelimit;
mod request;
mod router;
mod ws;

pub use chat::{SessionId, WebchatState};
pub use config::{OnlineRule, TenantChatConfig, WebchatConfig};
pub use presence::{ClerkPresence, PresenceGuard};
pub use problem::{Problem, ProblemCode};
pub use protocol::Refusal;

use actix_web::web;

/// Registers the widget assets, the demo page, the socket and the fallback routes.
pub fn configure(cfg: &mut web::ServiceConfig, state: WebchatState) {
    let max_body = state.config().max_frame_bytes;
    cfg.app_data(web::Data::new(state))
        .route("/widget.js", web::get().to(assets::widget_js))
        .route("/widget.css", web::get().to(assets::widget_css))
        .route("/demo", web::get().to(assets::demo_page))
        .route("/demo/", web::get().to(assets::demo_page))
        .route("/demo/demo.css", web::get().to(assets::demo_css))
        .route("/webchat/v1/ws", web::get().to(ws::socket))
        .service(
            web::scope("/webchat/v1")
                .app_data(web::PayloadConfig::new(max_body))
                .route("/info", web::get().to(http::info))
                .route("/messages", web::post().to(http::post_message))
                .route("/received", web::post().to(http::post_received))
                .route("/events", web::get().to(http::events))
                .route("/attachments", web::post().to(http::post_attachment))
                .route("/history", web::get().to(http::history))
                .route(
                    "/{tail:.*}",
                    web::method(actix_web::http::Method::OPTIONS).to(http::preflight),
                ),
        );
}
