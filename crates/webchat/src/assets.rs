//! The widget's own assets and the demo page, compiled into the binary.

use actix_web::HttpResponse;
use actix_web::http::header;

pub(crate) const WIDGET_JS: &str = include_str!("../assets/widget.js");
pub(crate) const WIDGET_CSS: &str = include_str!("../assets/widget.css");
pub(crate) const DEMO_HTML: &str = include_str!("../assets/demo.html");
pub(crate) const DEMO_CSS: &str = include_str!("../assets/demo.css");

/// Content-Security-Policy of loket's own demo page: nothing from other origins, no
/// inline script or style, no framing.
pub const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // Short cache: a new loket version must reach the municipal sites soon.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header(("cross-origin-resource-policy", "cross-origin"))
        .body(body)
}

pub(crate) async fn widget_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", WIDGET_JS)
}

pub(crate) async fn widget_css() -> HttpResponse {
    asset("text/css; charset=utf-8", WIDGET_CSS)
}

pub(crate) async fn demo_css() -> HttpResponse {
    asset("text/css; charset=utf-8", DEMO_CSS)
}

pub(crate) async fn demo_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, DEMO_CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DEMO_HTML)
}
