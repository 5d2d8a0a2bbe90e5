//! A minimal browser for tests: keeps cookies by name, never follows redirects, reads forms.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;

use crate::helpers::TestApp;

pub struct Browser {
    pub base: String,
    /// The gateway's `server.route_prefix`, where its own pages are.
    pub prefix: String,
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with no cookies, visiting `app`.
    pub fn new(app: &TestApp) -> Self {
        Browser {
            // The app's client: it trusts the gateway's test CA when the gateway serves HTTPS.
            http: app.client.clone(),
            ..Browser::at(&app.address, app.prefix())
        }
    }

    /// A browser visiting `base` (a gateway, or a proxy in front of one) whose own routes are
    /// under `prefix`.
    pub fn at(base: &str, prefix: &str) -> Self {
        Browser {
            base: base.to_owned(),
            prefix: prefix.to_owned(),
            http: crate::helpers::client(),
            cookies: BTreeMap::new(),
        }
    }

    /// The same browser (its cookies) visiting another replica `app`, as a load balancer would
    /// send it.
    pub fn on(&self, app: &TestApp) -> Browser {
        Browser {
            cookies: self.cookies.clone(),
            ..Browser::new(app)
        }
    }

    /// The path of one of kepgate's own routes: `own("/login")` → `/.kepgate/login`.
    pub fn own(&self, below: &str) -> String {
        format!("{}{below}", self.prefix)
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// What the browser sends as `Cookie:`.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .http
            .post(self.url(path))
            .header("accept", "text/html")
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    pub async fn post_json(&mut self, path: &str, body: serde_json::Value) -> reqwest::Response {
        let response = self
            .http
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .json(&body)
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// The provider's deeplink behind a link from the waiting page or the JSON API. A rotating
    /// kepgate link (`/q/…`) is opened by this browser, the one that started the login, which
    /// the gateway sends straight on to the provider (the same-device path).
    pub async fn provider_link(&mut self, link: &str) -> String {
        if !link.contains(&self.own("/q/")) {
            return link.to_owned();
        }
        let response = self.get(link).await;
        assert_eq!(response.status(), 303, "same-device hand-off of {link}");
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Opens an SSE stream and returns a reader of `(event, data)` pairs.
    pub async fn events(&self, path: &str) -> EventReader {
        let response = self
            .http
            .get(self.url(path))
            .header("accept", "text/event-stream")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "events stream");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        EventReader {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            qr_path: self.own("/login/qr/"),
        }
    }
}

pub struct EventReader {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
    /// Where the pushed QR pictures must be (`{prefix}/login/qr/`).
    qr_path: String,
}

impl EventReader {
    /// The next named event, or None when the stream ends. Comments, keep-alives and the
    /// rotating QR links (`event: qr`, every few seconds while pending) are skipped; see
    /// [`EventReader::next_qr`] for those.
    pub async fn next_event(&mut self) -> Option<(String, serde_json::Value)> {
        loop {
            let event = self.next_any().await?;
            if event.0 != "qr" {
                return Some(event);
            }
        }
    }

    /// The link of the next `event: qr` (its SVG checked to be there).
    pub async fn next_qr(&mut self) -> String {
        loop {
            let (name, data) = self.next_any().await.expect("the stream goes on");
            if name == "qr" {
                assert!(
                    data["qr_url"].as_str().unwrap().starts_with(&self.qr_path),
                    "{data}"
                );
                return data["link"].as_str().unwrap().to_owned();
            }
        }
    }

    /// Reads to the end of the stream. `Ok` with what came after the events already read when
    /// the body ended properly (the closing chunk of a chunked body); `Err` when it was cut off
    /// (a reset, or the connection closed mid-body), as a browser would see a network error.
    pub async fn read_to_end(&mut self) -> Result<String, String> {
        let mut rest = std::mem::take(&mut self.buffer);
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.stream.next())
                .await
                .expect("the stream ends within 20 s");
            match chunk {
                None => return Ok(rest),
                Some(Ok(bytes)) => rest.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Err(e)) => return Err(format!("{e:?}")),
            }
        }
    }

    async fn next_any(&mut self) -> Option<(String, serde_json::Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(event) = event {
                    return Some((
                        event,
                        serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    ));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.stream.next())
                .await
                .expect("event within 20 s")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }
}

/// The value of `<input type="hidden" name="csrf" value="…">` on a page.
pub fn csrf_of(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}
