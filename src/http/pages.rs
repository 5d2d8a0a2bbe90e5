//! What every HTML page shares: language, texts, the language switch, the stylesheet.

use std::convert::Infallible;

use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::branding::{Asset, BrandView};
use super::context::Web;
use super::error::AppError;
use crate::config::Settings;
use crate::language::{LANG_COOKIE, Lang, Texts};
use crate::return_path::ReturnPath;

/// Where a provider sends the browser back (`crate::routes`, which `provider/` shares).
pub use crate::routes::PROVIDER_RETURN;

/// The frame of a page: `chrome.t.*` in templates gives the current language's texts.
#[derive(Serialize)]
pub struct PageChrome {
    pub lang: Lang,
    /// The language the switch leads to.
    pub other_lang: Lang,
    pub t: &'static Texts,
    pub service_name: String,
    pub css_href: String,
    pub script_href: String,
    pub favicon_href: String,
    /// Link that switches to the other language and comes back to this page.
    pub switch_href: String,
    /// The organisation's name, logo, colour, support contact and footer, when configured.
    pub brand: BrandView,
    /// Where the files of `ui.pages_dir/assets/` are served, ending in `/`.
    pub site_href: String,
}

impl PageChrome {
    pub fn from_parts(parts: &Parts, settings: &Settings) -> Self {
        let lang = Lang::from_parts(parts, settings.ui.default_language);
        let requested = super::canonical_path::requested(parts);
        // A provider's return carries a single-use code and the login's state: a page shown
        // there never puts them into a link, and the switch leads to the start instead.
        let path = requested.split('?').next().unwrap_or_default();
        let here = if path.starts_with(&settings.server.path(PROVIDER_RETURN)) {
            ReturnPath::root()
        } else {
            ReturnPath::parse_or_root(Some(requested))
        };
        PageChrome::new(settings, lang, &here)
    }

    /// The frame of a page shown at `here` in `lang`.
    pub fn new(settings: &Settings, lang: Lang, here: &ReturnPath) -> Self {
        let server = &settings.server;
        let switch_href = format!(
            "{}?rd={}",
            server.path(&format!("/language/{}", lang.other().code())),
            url::form_urlencoded::byte_serialize(here.as_str().as_bytes()).collect::<String>()
        );
        PageChrome {
            lang,
            other_lang: lang.other(),
            t: lang.texts(),
            service_name: settings.ui.service_name.clone(),
            css_href: server.path(&format!(
                "/static/kepgate.css?v={}",
                env!("CARGO_PKG_VERSION")
            )),
            script_href: server.path(&format!("/static/login.js?v={}", env!("CARGO_PKG_VERSION"))),
            favicon_href: server.path("/static/favicon.svg"),
            switch_href,
            brand: BrandView::new(&settings.ui.branding, server, lang),
            site_href: server.path("/static/site/"),
        }
    }
}

/// The frame of the page the request asks for (its language, the way back to it).
impl<S> FromRequestParts<S> for PageChrome
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(PageChrome::from_parts(
            parts,
            &Web::from_ref(state).settings,
        ))
    }
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    rd: Option<String>,
}

/// `GET {prefix}/language/{code}?rd=/path`: remembers the choice in a cookie and goes back.
pub async fn switch_language(
    State(web): State<Web>,
    Path(code): Path<String>,
    Query(query): Query<SwitchQuery>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    let back = ReturnPath::parse_or_root(query.rd.as_deref());
    let secure = if web.settings.server.base_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
        lang.code()
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        LOCATION,
        HeaderValue::from_str(back.as_str()).map_err(anyhow::Error::new)?,
    );
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::new)?,
    );
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

pub async fn login_script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/login.js"),
    )
}

/// The pages' icon: linked from every page, so browsers never ask for `/favicon.ico`, which on
/// a gateway belongs to the cabinet (and needs a session there).
pub async fn favicon() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/favicon.svg"),
    )
}

/// The stylesheet is compiled in: the binary is the whole deployment and works from any cwd.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/kepgate.css"),
    )
}

/// Pages with one-time state or a person's data: never cached, not even for the back button.
pub fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Marks a page that goes out uncompressed, whatever the browser accepts: it carries a secret
/// besides the masked CSRF token (a login's link) or a person's data, and, like every page,
/// input an attacker chooses (the language switch's way back), so its compressed length could
/// give the secret away piece by piece (BREACH).
#[derive(Debug, Clone, Copy)]
pub struct Uncompressed;

pub fn uncompressed(response: &mut Response) {
    response.extensions_mut().insert(Uncompressed);
}

/// The compression layer's own condition (besides tower-http's defaults): not a page marked
/// [`Uncompressed`].
pub fn compressible(
    _: StatusCode,
    _: axum::http::Version,
    _: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> bool {
    extensions.get::<Uncompressed>().is_none()
}

/// A 303 to `to` (after a form post, or sending a browser on).
pub fn see_other(to: &str) -> Result<Response, AppError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, header_value(to)?);
    Ok(response)
}

/// A 303 that is never cached: it hands over, or leads on from, something used once (a login's
/// outcome, an authorization code, a session that just ended).
pub fn see_other_no_store(to: &str) -> Result<Response, AppError> {
    let mut response = see_other(to)?;
    no_store(&mut response);
    Ok(response)
}

/// After signing out: to the login page with "you have signed out", the session cookie cleared,
/// and the browser told to drop what it cached of this site — Chromium otherwise restores the
/// cabinet's last page from its back/forward cache despite `no-store`.
pub fn signed_out(server: &crate::config::ServerSettings) -> Result<Response, AppError> {
    let mut response = see_other(&format!("{}?notice=logged_out", server.path("/login")))?;
    let headers = response.headers_mut();
    headers.append(
        axum::http::header::SET_COOKIE,
        header_value(&super::session_cookie::SessionCookie::clear(server))?,
    );
    headers.insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    Ok(response)
}

/// A header value kepgate built itself; one that is not valid is a bug, hence a 500.
pub fn header_value(value: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(value).map_err(|e| AppError::Internal(anyhow::Error::new(e)))
}

/// `GET {prefix}/static/logo`.
pub async fn logo(State(web): State<Web>) -> Response {
    branding_asset(web.branding.logo.as_ref())
}

/// `GET {prefix}/static/brand.css`: the accent colour over the default stylesheet.
pub async fn brand_stylesheet(State(web): State<Web>) -> Response {
    branding_asset(web.branding.stylesheet.as_ref())
}

/// `GET {prefix}/static/site/{name}`: a file from the organisation's `ui.pages_dir/assets/`.
pub async fn site_asset(State(web): State<Web>, Path(name): Path<String>) -> Response {
    branding_asset(web.custom_pages.asset(&name))
}

/// One of the organisation's files; 404 when it configured none.
fn branding_asset(asset: Option<&Asset>) -> Response {
    match asset {
        Some(asset) => (
            [
                (CONTENT_TYPE, asset.content_type),
                (CACHE_CONTROL, "public, max-age=3600"),
            ],
            asset.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
