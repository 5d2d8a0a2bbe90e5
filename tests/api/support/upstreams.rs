//! Real third-party processes the tests put in front of or behind kepgate: Debian's nginx (as a
//! front proxy or as a file server) and a Python WSGI app. Each runs as one process, so ending
//! the child ends everything it started (nginx with `master_process off` has no workers).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_port;

/// A child process and its scratch folder, ended and removed on drop.
pub struct Upstream {
    child: Child,
    dir: PathBuf,
    pub address: String,
}

impl Upstream {
    /// Its scratch folder (certificates, files it serves).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch_dir(what: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kepgate-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn wait_listening(port: u16, log: &Path, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what} did not start: {log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is not installed: scripts/test.sh installs Debian's nginx package")
}

/// Debian's nginx with `server_body` (given the port and the scratch folder) as its one server.
pub async fn nginx(server_body: impl FnOnce(u16, &Path) -> String) -> Upstream {
    nginx_listening("", server_body).await
}

/// [`nginx`] with options on its `listen` line (`ssl`).
pub async fn nginx_listening(
    listen_options: &str,
    server_body: impl FnOnce(u16, &Path) -> String,
) -> Upstream {
    let port = free_port();
    let dir = scratch_dir("nginx");
    let server = server_body(port, &dir);
    let conf = format!(
        r#"
master_process off;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 128; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} {listen_options};
{server}
  }}
}}
"#,
        dir = dir.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(nginx_binary())
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    // Owned before the wait: a start that times out still ends the process.
    let log = dir.join("error.log");
    let upstream = Upstream {
        child,
        dir,
        address: format!("http://127.0.0.1:{port}"),
    };
    wait_listening(port, &log, "nginx").await;
    upstream
}

/// nginx serving `files` (path → content) from its folder: the stock static-file upstream.
pub async fn nginx_files(files: &[(&str, &str)]) -> Upstream {
    nginx(|_, dir| {
        let root = dir.join("www");
        for (path, content) in files {
            let file = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        format!("    location / {{ root {}; }}", root.display())
    })
    .await
}

/// A WSGI app (Python's wsgiref, as a WSGI server folds headers into `environ`) that answers
/// with the `HTTP_*` variables it was given, as JSON: what an app reading identity from
/// `environ` believes.
pub async fn wsgi_environ_app() -> Upstream {
    const APP: &str = r#"
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler

def app(environ, start_response):
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    seen["PATH_INFO"] = environ.get("PATH_INFO", "")
    body = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=Quiet).serve_forever()
"#;
    let port = free_port();
    let dir = scratch_dir("wsgi");
    // The folder name is in the command line: scripts/test.sh looks for it among leftovers.
    let script = dir.join("app.py");
    std::fs::write(&script, APP).unwrap();
    let log = dir.join("stderr.log");
    let child = Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("python3 starts");
    let upstream = Upstream {
        child,
        dir,
        address: format!("http://127.0.0.1:{port}"),
    };
    wait_listening(port, &log, "the WSGI app").await;
    upstream
}

/// A response read off a raw socket.
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Sends `head` (request line and headers, without the blank line) and `body` exactly as given,
/// on a fresh connection: no client library normalizes the target first.
pub async fn raw_request(address: &str, head: &str, body: &[u8]) -> RawResponse {
    let host = address.trim_start_matches("http://");
    let mut request = format!("{head}\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes();
    request.extend_from_slice(body);
    raw_bytes(address, &request).await
}

/// Sends `request` byte for byte (nothing added, not even Host) and reads the answer.
pub async fn raw_bytes(address: &str, request: &[u8]) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes)).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    RawResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `GET target` with extra header lines.
pub async fn raw_get(address: &str, target: &str, headers: &[String]) -> RawResponse {
    let mut head = format!("GET {target} HTTP/1.1");
    for h in headers {
        head.push_str("\r\n");
        head.push_str(h);
    }
    raw_request(address, &head, b"").await
}
