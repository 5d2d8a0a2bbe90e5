//! The parameters of a token, user-info or logout request, wherever the client put them.
//!
//! The spec says "GET / POST" for these calls and public clients use every combination: GET with
//! a query string (IIT's Node sample), POST with the query string and an empty body declared as
//! `application/json` (IIT's PHP sample), POST with a form body (vlbash/diklz), POST with the
//! query string and `{}` as a JSON body (liquio/liquio's logout, through axios). So the query
//! string and the body are merged: a form body, or a JSON object of strings or numbers; an empty
//! body of any declared type is no parameters. A name given twice must carry one value.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;
use serde_json::Value;

use super::wire::{ApiError, ErrorCode};

/// What a request carried, for `GET /emulator/requests`: names only, never values (secrets).
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub path: String,
    pub method: String,
    /// As declared, if at all.
    pub content_type: Option<String>,
    /// Parameter names in the query string, in order.
    pub query: Vec<String>,
    /// Parameter names in the body, in order.
    pub body: Vec<String>,
}

pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// `application/x-www-form-urlencoded` pairs (a query string or a form body).
    pub fn parse(encoded: &[u8]) -> Params {
        Params {
            pairs: url::form_urlencoded::parse(encoded).into_owned().collect(),
        }
    }

    /// The value of `name`, if given. Given twice with different values is a 400.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.pairs {
            if k != name {
                continue;
            }
            match found {
                Some(previous) if previous != v => {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        format!("Параметр {name} передано кілька разів з різними значеннями"),
                    ));
                }
                _ => found = Some(v),
            }
        }
        Ok(found)
    }

    /// A parameter that must be there and not blank.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name)? {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ApiError::missing(name)),
        }
    }
}

fn mime(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// Reads the query string and the body into one parameter list, and records their names.
pub(crate) fn collect(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (RecordedRequest, Result<Params, ApiError>) {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let from_body = body_params(mime(headers).as_deref(), body);
    let names = |pairs: &[(String, String)]| pairs.iter().map(|(k, _)| k.clone()).collect();
    let record = RecordedRequest {
        path: uri.path().to_owned(),
        method: method.as_str().to_owned(),
        content_type,
        query: names(&query),
        body: from_body.as_deref().map(names).unwrap_or_default(),
    };
    let params = from_body.map(|mut pairs| {
        let mut all = query;
        all.append(&mut pairs);
        Params { pairs: all }
    });
    (record, params)
}

fn body_params(mime: Option<&str>, body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    match mime {
        Some("application/x-www-form-urlencoded") => Ok(url::form_urlencoded::parse(body)
            .into_owned()
            .collect()),
        Some("application/json") => json_params(body),
        other => Err(ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "Тіло запиту типу {} не підтримується: передайте параметри в рядку запиту або як application/x-www-form-urlencoded",
                other.unwrap_or("(не вказано)")
            ),
        )
        .with_status(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE)),
    }
}

fn json_params(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |why: String| ApiError::new(ErrorCode::BadRequest, why);
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("Некоректний JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(bad("Тіло JSON має бути обʼєктом".to_owned()));
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        let v = match v {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(bad(format!("Параметр {k} має бути рядком")));
            }
        };
        pairs.push((k, v));
    }
    Ok(pairs)
}
