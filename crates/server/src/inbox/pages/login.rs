//! Login, logout and the language switch.

use crate::AppState;
use crate::inbox::html::{self, Layout};
use crate::inbox::i18n::{Lang, Texts};
use crate::inbox::{
    LANG_COOKIE, LOGIN_CSRF_COOKIE, error_page, lang_of, login_policy, page_session, set_cookie,
    to_login,
};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use loket_core::Role;
use serde::Deserialize;

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Where to go after login.
fn home_of(role: Role) -> &'static str {
    if role == Role::Auditor {
        "/inbox/audit"
    } else {
        "/inbox"
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    back: Option<String>,
}

pub async fn set_lang(
    req: HttpRequest,
    lang: web::Path<String>,
    q: web::Query<LangQuery>,
) -> HttpResponse {
    let l = if lang.as_str() == "en" { "en" } else { "nl" };
    // Only local inbox paths: never an open redirect.
    let back = q
        .back
        .as_deref()
        .filter(|b| b.starts_with("/inbox") && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or("/inbox");
    HttpResponse::SeeOther()
        .insert_header(("Location", back.to_owned()))
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, LANG_COOKIE, l, Some(365 * 86_400)),
        ))
        .finish()
}

#[derive(Template)]
#[template(path = "inbox/login.html", config = "templates/askama.toml")]
struct LoginPage<'a> {
    layout: Layout,
    t: &'static Texts,
    csrf: &'a str,
    tenant: &'a str,
    username: &'a str,
    failed: bool,
}

fn login_page<'a>(
    lang: Lang,
    csrf: &'a str,
    tenant: &'a str,
    username: &'a str,
    failed: bool,
) -> LoginPage<'a> {
    let t = lang.texts();
    LoginPage {
        layout: Layout::new(lang, t.login_title, None, "", "/inbox/login"),
        t,
        csrf,
        tenant,
        username,
        failed,
    }
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    if let Some(s) = page_session(&req, &state).await? {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", home_of(s.principal().role)))
            .finish());
    }
    let csrf = crate::inbox::cookie(&req, LOGIN_CSRF_COOKIE)
        .filter(|c| c.len() == 48 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token);
    // The only tenant of a single-municipality install is filled in.
    let tenants = state.store.tenants().await?;
    let tenant = match tenants.as_slice() {
        [one] => one.slug.clone(),
        _ => String::new(),
    };
    let body = html::render(&login_page(lang_of(&req), &csrf, &tenant, "", false))?;
    Ok(HttpResponse::Ok()
        .content_type(html::CONTENT_TYPE)
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, LOGIN_CSRF_COOKIE, &csrf, None),
        ))
        .body(body))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Every refusal gives the same page with the same status (no user enumeration).
pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Problem> {
    let form = form.into_inner();
    let cookie_token = crate::inbox::cookie(&req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !crate::auth::same_token(&form.csrf, &cookie_token) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, None));
    }
    let lang = lang_of(&req);
    let refused = || {
        html::respond(
            StatusCode::UNAUTHORIZED,
            &login_page(lang, &form.csrf, &form.tenant, &form.username, true),
        )
    };
    if form.username.len() > 200 || form.password.len() > 1024 || form.tenant.len() > 100 {
        return Ok(refused());
    }
    match state
        .store
        .login(&form.tenant, &form.username, &form.password, login_policy())
        .await?
    {
        Ok(new) => {
            let max_age = (new.session.expires_at - loket_core::now()).num_seconds();
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", home_of(new.session.principal.role)))
                .append_header((
                    "Set-Cookie",
                    set_cookie(
                        &req,
                        crate::auth::SESSION_COOKIE,
                        &new.secret,
                        Some(max_age),
                    ),
                ))
                .append_header((
                    "Set-Cookie",
                    set_cookie(&req, LOGIN_CSRF_COOKIE, "", Some(0)),
                ))
                .finish())
        }
        Err(_) => Ok(refused()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Problem> {
    let Some(s) = page_session(&req, &state).await? else {
        return Ok(to_login());
    };
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    state.store.end_session(&s.secret).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/inbox/login"))
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, crate::auth::SESSION_COOKIE, "", Some(0)),
        ))
        .finish())
}
