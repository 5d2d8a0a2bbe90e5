//! The compose files as `docker compose up` would run them, without a Docker engine: the model
//! comes from `tests/tools/compose_model.py` (validated against the Compose Specification's
//! schema, the files merged, `extends` resolved, the Dockerfile's entrypoint filled in), and
//! every service built from this repository runs as a process with exactly its command and
//! environment. Only what a container network provides is translated: a service's name and
//! port become 127.0.0.1 and a port of its own, a published `localhost` port likewise, a named
//! volume a folder of the test's, and the `db` service this machine's PostgreSQL under a
//! database of the test's own.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::helpers::{free_port, fresh_database_url, kepgate_bin, repository};
use crate::processes::KillOnDrop;

/// Where the image puts the binary (the Dockerfile's `COPY … /usr/local/bin/kepgate`).
const IMAGE_BINARY: &str = "/usr/local/bin/kepgate";

#[derive(Debug, Deserialize)]
pub struct ComposeModel {
    pub services: BTreeMap<String, Service>,
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub image: Option<String>,
    pub builds: bool,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<String>,
    pub volumes: Vec<serde_json::Value>,
    pub depends_on: BTreeMap<String, serde_json::Value>,
    pub healthcheck: Option<serde_json::Value>,
}

/// The pinned validators' Python (scripts/ensure-python-tools.sh), installed on first use.
pub fn python_tools() -> PathBuf {
    if let Ok(dir) = std::env::var("KEPGATE_PYTHON_TOOLS") {
        return PathBuf::from(dir);
    }
    crate::helpers::ensured_tool("scripts/ensure-python-tools.sh")
}

/// The model of `files` (paths relative to the repository, or absolute), or the validator's
/// complaint.
pub fn compose_model(files: &[&str]) -> Result<ComposeModel, String> {
    let repo = repository();
    let out = Command::new(python_tools().join("bin/python"))
        .arg(repo.join("tests/tools/compose_model.py"))
        .arg(repo.join("tests/fixtures/compose-spec/compose-spec.json"))
        .arg(repo.join("Dockerfile"))
        .args(files.iter().map(|f| repo.join(f)))
        .output()
        .expect("the compose model tool runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("the model is JSON"))
}

/// One running compose project.
pub struct ComposeStack {
    dir: PathBuf,
    running: Vec<(String, KillOnDrop, PathBuf)>,
    database: String,
    /// `from → to`, applied to every service's environment and healthcheck.
    global: Vec<(String, String)>,
    /// A service's own: its listen addresses, its volumes' mount points.
    own: BTreeMap<String, Vec<(String, String)>>,
}

impl ComposeStack {
    /// Starts every service built from this repository in the order `depends_on` gives,
    /// waiting for each `service_healthy` dependency with the dependency's own healthcheck.
    pub async fn up(model: &ComposeModel) -> ComposeStack {
        let dir = std::env::temp_dir().join(format!("kepgate-compose-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, database) = fresh_database_url();
        let mut stack = ComposeStack {
            dir,
            running: Vec::new(),
            database,
            global: Vec::new(),
            own: BTreeMap::new(),
        };
        stack.plan_addresses(model);
        stack.plan_database(model, &url).await;
        for name in start_order(model) {
            let service = &model.services[&name];
            for (dependency, condition) in &service.depends_on {
                if condition["condition"] == "service_healthy" && model.services[dependency].builds
                {
                    stack.healthy(dependency, &model.services[dependency]).await;
                }
            }
            if service.builds {
                stack.start(&name, service);
            } else if service
                .image
                .as_deref()
                .is_some_and(|i| i.starts_with("haproxy:"))
            {
                stack.start_haproxy(&name, service);
            }
        }
        stack
    }

    /// Each built service's container ports (from its `0.0.0.0:PORT` settings) get a port of
    /// their own here; published `localhost` ports lead to the same place.
    fn plan_addresses(&mut self, model: &ComposeModel) {
        for (name, service) in &model.services {
            if service
                .image
                .as_deref()
                .is_some_and(|i| i.starts_with("haproxy:"))
            {
                self.plan_haproxy(name, service);
                continue;
            }
            if !service.builds {
                continue;
            }
            let mut own = Vec::new();
            for port in service
                .environment
                .values()
                .flat_map(|v| ports_after(v, "0.0.0.0:"))
            {
                let here = format!("127.0.0.1:{}", free_port());
                own.push((format!("0.0.0.0:{port}"), here.clone()));
                own.push((format!("127.0.0.1:{port}"), here.clone()));
                self.reach(name, service, port, &here);
            }
            for volume in &service.volumes {
                let spec = volume.as_str().expect("short volume syntax");
                let mut parts = spec.split(':');
                let (source, target) = (parts.next().unwrap(), parts.next().unwrap());
                assert!(
                    model.volumes.iter().any(|v| v == source),
                    "{name}: {source} is not a named volume"
                );
                let folder = self.dir.join(source);
                std::fs::create_dir_all(&folder).unwrap();
                own.push((target.to_owned(), folder.display().to_string()));
            }
            // Longest first: `/a/bc` before `/a/b`.
            own.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
            self.own.insert(name.clone(), own);
        }
        self.global
            .sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    }

    /// Container port `port` of `name` is `here`: for the other services (`name:port`) and for
    /// the host's browser through each published `HOST:port` or `IP:HOST:port`
    /// (`localhost:HOST`).
    fn reach(&mut self, name: &str, service: &Service, port: u16, here: &str) {
        self.global
            .push((format!("{name}:{port}"), here.to_owned()));
        for published in &service.ports {
            let parts: Vec<&str> = published.split(':').collect();
            if let [.., host, container] = parts.as_slice()
                && *container == port.to_string()
            {
                self.global
                    .push((format!("localhost:{host}"), here.to_owned()));
            }
        }
    }

    /// A load balancer from the haproxy image: its port comes from the `bind :PORT` of the
    /// configuration file mounted into it.
    fn plan_haproxy(&mut self, name: &str, service: &Service) {
        let config = haproxy_config(service);
        let text = std::fs::read_to_string(&config).unwrap();
        let port = ports_after(&text, "bind :")[0];
        let here = format!("127.0.0.1:{}", free_port());
        self.reach(name, service, port, &here);
        self.own.insert(
            name.to_owned(),
            vec![(format!("bind :{port}"), format!("bind {here}"))],
        );
    }

    /// Debian's haproxy in the foreground, on the mounted configuration with the compose
    /// network's names translated.
    fn start_haproxy(&mut self, name: &str, service: &Service) {
        let text = std::fs::read_to_string(haproxy_config(service)).unwrap();
        let config = self.dir.join(format!("{name}-haproxy.cfg"));
        std::fs::write(&config, self.translate(name, &text)).unwrap();
        let log = self.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("haproxy (Debian's package) starts");
        self.running.push((name.to_owned(), KillOnDrop(child), log));
    }

    /// The `db` service's database, user and password are the ones every `DATABASE_URL` names;
    /// here they are this machine's PostgreSQL and a database of the test's own.
    async fn plan_database(&mut self, model: &ComposeModel, url: &str) {
        let db = &model.services["db"].environment;
        let expected = format!(
            "postgres://{}:{}@db:5432/{}",
            db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"]
        );
        for (name, service) in &model.services {
            if let Some(given) = service.environment.get("DATABASE_URL") {
                assert_eq!(
                    given, &expected,
                    "{name}'s DATABASE_URL is the db service's"
                );
            }
        }
        self.global.insert(0, (expected, url.to_owned()));
        // The db container creates POSTGRES_DB when it starts; so does the test.
        let mut admin = {
            use sqlx::Connection;
            sqlx::PgConnection::connect(&crate::helpers::postgres_server_url())
                .await
                .unwrap()
        };
        // The name is the test's own (fresh_database_url), never input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{}\"",
            self.database
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }

    fn translate(&self, service: &str, value: &str) -> String {
        let mut value = value.to_owned();
        for (from, to) in self.own[service].iter().chain(&self.global) {
            value = value.replace(from, to);
        }
        value
    }

    /// What a service's `host:port` inside the compose network is here (`http://127.0.0.1:N`).
    pub fn url_of(&self, service: &str, port: u16) -> String {
        format!(
            "http://{}",
            self.translate(service, &format!("{service}:{port}"))
        )
    }

    /// What a browser on the host opens for `http://localhost:PORT/…`.
    pub fn published(&self, url: &str) -> String {
        let mut url = url.to_owned();
        for (from, to) in &self.global {
            url = url.replace(from, to);
        }
        url
    }

    fn start(&mut self, name: &str, service: &Service) {
        let entrypoint = service.entrypoint.clone().unwrap_or_default();
        assert_eq!(
            entrypoint.first().map(String::as_str),
            Some(IMAGE_BINARY),
            "{name}: runs the image's kepgate"
        );
        let args: Vec<String> = entrypoint[1..]
            .iter()
            .chain(service.command.iter().flatten())
            .map(|a| self.translate(name, a))
            .collect();
        let log = self.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = kepgate_bin();
        command
            .args(&args)
            .envs(
                service
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), self.translate(name, v))),
            )
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        self.running.push((name.to_owned(), KillOnDrop(child), log));
    }

    /// Runs the service's healthcheck (`CMD` or `CMD-SHELL`) until it passes.
    async fn healthy(&mut self, name: &str, service: &Service) {
        let test: Vec<String> = serde_json::from_value(
            service.healthcheck.as_ref().expect("a healthcheck")["test"].clone(),
        )
        .expect("the exec form of healthcheck.test");
        let test: Vec<String> = test.iter().map(|a| self.translate(name, a)).collect();
        let mut command = match test[0].as_str() {
            "CMD" => {
                let mut c = Command::new(&test[1]);
                c.args(&test[2..]);
                c
            }
            "CMD-SHELL" => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(&test[1]);
                c
            }
            other => panic!("{name}: healthcheck {other} is not run here"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.still_running();
            if command.output().is_ok_and(|o| o.status.success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} is not healthy in 60 s:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Panics with the logs if a service has exited.
    pub fn still_running(&mut self) {
        for (name, process, _) in &mut self.running {
            if let Some(status) = process.0.try_wait().unwrap() {
                let name = name.clone();
                panic!("{name} exited ({status}):\n{}", self.logs());
            }
        }
    }

    pub fn logs(&self) -> String {
        self.running
            .iter()
            .map(|(name, _, log)| {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- {name}\n{}\n", tail.join("\n"))
            })
            .collect()
    }

    /// Waits until `url` answers 200.
    pub async fn answers(&mut self, url: &str) {
        let http = crate::helpers::client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.still_running();
            if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{url} is not 200 in 60 s:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ComposeStack {
    fn drop(&mut self) {
        // `docker compose down -v`: the processes, the volumes, the database.
        self.running.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
        let database = self.database.clone();
        let _ = std::process::Command::new("psql")
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                &format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"),
            ])
            .output();
    }
}

/// The file mounted at the haproxy image's configuration path (a bind mount of the repository).
fn haproxy_config(service: &Service) -> PathBuf {
    let mount = service
        .volumes
        .iter()
        .filter_map(|v| v.as_str())
        .find(|v| v.contains(":/usr/local/etc/haproxy/haproxy.cfg"))
        .expect("the haproxy configuration is mounted");
    let source = mount.split(':').next().unwrap();
    repository().join(source.trim_start_matches("./"))
}

/// Dependencies before their dependents (`depends_on`), otherwise in name order.
fn start_order(model: &ComposeModel) -> Vec<String> {
    fn visit(model: &ComposeModel, name: &str, order: &mut Vec<String>) {
        if order.iter().any(|n| n == name) {
            return;
        }
        for dependency in model.services[name].depends_on.keys() {
            visit(model, dependency, order);
        }
        order.push(name.to_owned());
    }
    let mut order = Vec::new();
    for name in model.services.keys() {
        visit(model, name, &mut order);
    }
    order
}

/// The port numbers written right after `prefix` in `value`.
fn ports_after(value: &str, prefix: &str) -> Vec<u16> {
    value
        .match_indices(prefix)
        .filter_map(|(at, _)| {
            let digits: String = value[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}
