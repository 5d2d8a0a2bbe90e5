//! The operator's pages folder and logo (`ui.pages_dir`, `ui.branding.logo_file`) holding what
//! an adversarial review put there: links to a secret file and to the process's environment, a
//! linked template and a linked `assets/`, a FIFO, a file over the limit, a page that fails on
//! its values. Each is refused by `kepgate check-config` and by `kepgate serve` (a real process,
//! whose database password is the secret) before it answers, with the path and the reason
//! named; had it started, every path that could show the secret is asked for.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::diia_stack::TempDir;
use crate::helpers::{client, free_port, fresh_database_url, kepgate_bin, postgres_server_url};
use crate::processes::KillOnDrop;

/// In the database URL's password (so in `/proc/<kepgate>/environ` and in the configuration
/// file) and in the "private key" outside the pages folder.
const SECRET: &str = "s3cret-not-for-pages-4b1d";
/// How long a start may take on the shared, slow machines; an old kepgate that waits for a
/// FIFO's writer never gets anywhere.
const START: Duration = Duration::from_secs(40);

/// A scratch folder: `pages/` (the folder configured) and `outside/` (what the links reach:
/// `tls.key` and `kepgate.toml`, both holding the secret).
struct Setup {
    root: TempDir,
    port: u16,
    database: String,
    database_url: String,
    /// `[ui]` and `[ui.branding]` lines of the configuration.
    ui: String,
}

impl Setup {
    fn new() -> Setup {
        let root = TempDir(
            std::env::temp_dir().join(format!("kepgate-opfiles-{}", uuid::Uuid::new_v4().simple())),
        );
        std::fs::create_dir_all(root.0.join("pages/assets")).unwrap();
        std::fs::create_dir_all(root.0.join("outside")).unwrap();
        std::fs::write(
            root.0.join("outside/tls.key"),
            format!("-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        let (url, database) = fresh_database_url();
        let database_url = url.replacen("postgres@", &format!("postgres:{SECRET}@"), 1);
        let pages = root.0.join("pages");
        let setup = Setup {
            root,
            port: free_port(),
            database,
            database_url,
            ui: format!("[ui]\npages_dir = \"{}\"\n", pages.display()),
        };
        let config = setup.config_text();
        std::fs::write(setup.root.0.join("outside/kepgate.toml"), config).unwrap();
        setup
    }

    fn pages(&self) -> PathBuf {
        self.root.0.join("pages")
    }

    fn outside(&self, name: &str) -> PathBuf {
        self.root.0.join("outside").join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.pages().join(name), text).unwrap();
    }

    /// `pages/<name>` made a link to `target`.
    fn link(&self, name: &str, target: &Path) {
        std::os::unix::fs::symlink(target, self.pages().join(name)).unwrap();
    }

    fn config_text(&self) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}/\"\n\
             [database]\nurl = \"{url}\"\n[metrics]\nenabled = false\n{ui}",
            port = self.port,
            url = self.database_url,
            ui = self.ui,
        )
    }

    fn config_file(&self) -> PathBuf {
        let path = self.root.0.join("kepgate.toml");
        std::fs::write(&path, self.config_text()).unwrap();
        path
    }

    /// `kepgate check-config`: its exit code and everything it wrote.
    fn check_config(&self) -> Ended {
        let mut command = kepgate_bin();
        command
            .arg("check-config")
            .arg("--config")
            .arg(self.config_file());
        run_bounded(command, &self.root.0.join("check.log"))
    }

    /// `kepgate serve`: refused (its exit code and log), or, if it answers, what it serves at
    /// `paths`.
    async fn serve(&self, paths: &[&str]) -> Served {
        let log = self.root.0.join("serve.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut child = KillOnDrop(
            kepgate_bin()
                .arg("serve")
                .arg("--config")
                .arg(self.config_file())
                // In the process's environment too, as deployments pass it.
                .env("DATABASE_URL", &self.database_url)
                .stdout(Stdio::from(file.try_clone().unwrap()))
                .stderr(Stdio::from(file))
                .spawn()
                .unwrap(),
        );
        let http = client();
        let base = format!("http://127.0.0.1:{}", self.port);
        let started = Instant::now();
        let served = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break Served::Refused(Ended {
                    code: status.code().unwrap_or(-1),
                    output: std::fs::read_to_string(&log).unwrap_or_default(),
                });
            }
            let ready = http.get(format!("{base}/.kepgate/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                let mut answers = Vec::new();
                for path in paths {
                    let response = http.get(format!("{base}{path}")).send().await.unwrap();
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    answers.push(((*path).to_owned(), status, body));
                }
                break Served::Answered(answers);
            }
            if started.elapsed() > START {
                break Served::Stuck(std::fs::read_to_string(&log).unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        drop(child);
        drop_database(&self.database).await;
        served
    }
}

/// How a command ended.
struct Ended {
    code: i32,
    output: String,
}

impl Ended {
    /// Exit code 2 or 1 (a configuration error), every `expected` part in what it wrote, and
    /// never the secret.
    fn assert_refused(&self, what: &str, expected: &[&str]) {
        assert!(
            self.code == 2 || self.code == 1,
            "{what}: exit code {}, expected a configuration error:\n{}",
            self.code,
            self.output
        );
        for part in expected {
            assert!(
                self.output.contains(part),
                "{what}: {part:?} not said:\n{}",
                self.output
            );
        }
        assert!(
            !self.output.contains(SECRET),
            "{what}: the secret in its output:\n{}",
            self.output
        );
    }
}

enum Served {
    Refused(Ended),
    /// It started: what each path answered (path, status, body).
    Answered(Vec<(String, u16, String)>),
    /// Neither started nor stopped.
    Stuck(String),
}

impl Served {
    fn assert_refused(&self, expected: &[&str]) {
        match self {
            Served::Refused(ended) => ended.assert_refused("kepgate serve", expected),
            Served::Answered(answers) => {
                let shown: Vec<String> = answers
                    .iter()
                    .map(|(path, status, body)| {
                        format!(
                            "{path}: {status}{}",
                            if body.contains(SECRET) {
                                " WITH THE SECRET"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect();
                panic!("kepgate serve started and answered: {}", shown.join("; "));
            }
            Served::Stuck(log) => {
                panic!("kepgate serve neither answered nor stopped in {START:?}:\n{log}")
            }
        }
    }
}

/// Runs `command` to its end, killed after [`START`] (an old kepgate waits for a FIFO for ever).
fn run_bounded(mut command: Command, log: &Path) -> Ended {
    let file = std::fs::File::create(log).unwrap();
    let mut child: Child = command
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > START {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ended {
        code,
        output: std::fs::read_to_string(log).unwrap_or_default(),
    }
}

async fn drop_database(name: &str) {
    let Ok(mut admin) =
        sqlx::PgConnection::connect(&format!("{}/postgres", postgres_server_url())).await
    else {
        return;
    };
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}

/// `check-config` and `serve` both refuse the setup, saying `expected`, and serve nothing of
/// `paths`.
async fn refused(setup: &Setup, paths: &[&str], expected: &[&str]) {
    setup.serve(paths).await.assert_refused(expected);
    setup
        .check_config()
        .assert_refused("kepgate check-config", expected);
}

const SITE: &str = "/.kepgate/static/site/";

#[tokio::test]
async fn an_asset_linked_to_a_private_key_is_refused_and_never_served() {
    let setup = Setup::new();
    setup.link("assets/key.css", &setup.outside("tls.key"));
    let path = format!("{SITE}key.css");
    refused(
        &setup,
        &[&path],
        &[
            "ui.pages_dir: ",
            "/pages/assets/key.css is a symbolic link to ",
            "outside/tls.key",
        ],
    )
    .await;
}

#[tokio::test]
async fn an_asset_hard_linked_to_a_private_key_is_refused_and_never_served() {
    // `ln` where `ln -s` or `cp` was meant: the same file under a second name, which no
    // `lstat` tells from a regular file but its link count.
    let setup = Setup::new();
    std::fs::hard_link(
        setup.outside("tls.key"),
        setup.pages().join("assets/key.css"),
    )
    .unwrap();
    let path = format!("{SITE}key.css");
    refused(
        &setup,
        &[&path],
        &[
            "ui.pages_dir: ",
            "/pages/assets/key.css has 2 names (hard links)",
        ],
    )
    .await;
}

#[tokio::test]
async fn an_asset_linked_to_the_process_environment_is_refused_and_never_served() {
    let setup = Setup::new();
    setup.link("assets/env.css", Path::new("/proc/self/environ"));
    let path = format!("{SITE}env.css");
    refused(
        &setup,
        &[&path],
        &["/pages/assets/env.css is a symbolic link to /proc/self/environ"],
    )
    .await;
}

#[tokio::test]
async fn a_linked_template_is_refused_and_never_included() {
    let setup = Setup::new();
    setup.link("cfg.html", &setup.outside("kepgate.toml"));
    setup.write("login.html", "<pre>{% include 'cfg.html' %}</pre>");
    refused(
        &setup,
        &["/.kepgate/login"],
        &[
            "/pages/cfg.html is a symbolic link to ",
            "outside/kepgate.toml",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_linked_assets_folder_is_refused_and_nothing_of_it_served() {
    let setup = Setup::new();
    std::fs::remove_dir(setup.pages().join("assets")).unwrap();
    // A folder elsewhere whose every file would pass as an asset.
    let elsewhere = setup.outside("site");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("key.css"), SECRET).unwrap();
    setup.link("assets", &elsewhere);
    let path = format!("{SITE}key.css");
    refused(
        &setup,
        &[&path],
        &["/pages/assets is a symbolic link to ", "outside/site"],
    )
    .await;
}

#[tokio::test]
async fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let setup = Setup::new();
    let made = Command::new("mkfifo")
        .arg(setup.pages().join("assets/x.css"))
        .status()
        .unwrap();
    assert!(made.success());
    refused(&setup, &[], &["/pages/assets/x.css is a FIFO (named pipe)"]).await;
}

/// The old code refused this one too, by the size the file reported; this keeps the bound of
/// the new way of reading, which stops one byte past the limit whatever the size says (a file
/// of /proc says 0: `operator_files`' unit tests).
#[tokio::test]
async fn a_file_over_the_limit_is_refused() {
    let setup = Setup::new();
    setup.write("assets/big.css", &"a".repeat(1024 * 1024 + 1));
    refused(
        &setup,
        &[],
        &["/pages/assets/big.css is larger than 1048576 bytes"],
    )
    .await;
}

#[tokio::test]
async fn a_logo_that_is_a_link_is_refused_and_never_served() {
    let mut setup = Setup::new();
    let logo = setup.outside("logo.png");
    std::os::unix::fs::symlink("/proc/self/environ", &logo).unwrap();
    setup.ui = format!("[ui.branding]\nlogo_file = \"{}\"\n", logo.display());
    refused(
        &setup,
        &["/.kepgate/static/logo"],
        &[
            "ui.branding.logo_file: ",
            "outside/logo.png is a symbolic link to /proc/self/environ",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_page_that_fails_on_its_values_stops_the_start_with_file_and_reason() {
    let setup = Setup::new();
    // `|safe` on a person's name: refused when shown, so before this the built-in page was
    // shown at every request and the operator learnt of it only from the log.
    setup.write(
        "signed_in.html",
        "<p>{{ chrome.service_name }}</p>\n<h1>{{ full_name|safe }}</h1>",
    );
    // A misspelt field inside a loop: only a sample with a session shows it.
    let setup_me = Setup::new();
    setup_me.write(
        "me.html",
        "{% for s in sessions %}<li>{{ s.adress }}</li>{% endfor %}",
    );
    refused(
        &setup,
        &["/.kepgate/login"],
        &[
            "ui.pages_dir: signed_in.html cannot be shown",
            "|safe is only for kepgate's own markup",
            "signed_in.html:2",
        ],
    )
    .await;
    setup_me.check_config().assert_refused(
        "kepgate check-config",
        &[
            "ui.pages_dir: me.html cannot be shown",
            "with every optional value present",
            "adress",
        ],
    );
}

#[tokio::test]
async fn a_pages_folder_that_is_itself_a_link_is_read_and_served() {
    // Deployments switch a release folder by a link: the configured folder may be one, only
    // what is inside it may not.
    let mut setup = Setup::new();
    setup.write("assets/site.css", "body { color: #123456 }");
    let linked = setup.root.0.join("current");
    std::os::unix::fs::symlink(setup.pages(), &linked).unwrap();
    setup.ui = format!("[ui]\npages_dir = \"{}\"\n", linked.display());
    let checked = setup.check_config();
    assert_eq!(checked.code, 0, "{}", checked.output);
    let path = format!("{SITE}site.css");
    match setup.serve(&[&path]).await {
        Served::Answered(answers) => {
            assert_eq!(answers[0].1, 200);
            assert_eq!(answers[0].2, "body { color: #123456 }");
        }
        Served::Refused(ended) => panic!("refused ({}):\n{}", ended.code, ended.output),
        Served::Stuck(log) => panic!("stuck:\n{log}"),
    }
}
