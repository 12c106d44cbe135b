//! The OpenAPI document of `/api/v1`, assembled from the paths and schemas of the route
//! modules (`routes::api`, `routes::search`) and the inbox's JSON API. It lives apart so
//! that the route modules and the inbox API need not import each other.

use crate::inbox::api::InboxApiDoc;
use crate::problem::Problem;
use crate::routes::{api, search};
use actix_web::HttpResponse;
use utoipa::OpenApi;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "loket API", version = "1.0.0", description = "Message gateway for Dutch municipalities.", license(name = "EUPL-1.2")),
    paths(api::post_message, api::get_message, api::get_conversation, api::post_reply, api::post_import, search::search, search::export),
    components(schemas(Problem, api::NewMessageBody, api::AddressBody, api::MessageView, api::ConversationView, api::ReplyBody, api::ImportResult)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`: the routes' document with the inbox's merged in.
pub async fn openapi() -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    doc.merge(InboxApiDoc::openapi());
    doc.merge(loket_sms::SmsApiDoc::openapi());
    HttpResponse::Ok().json(doc)
}
