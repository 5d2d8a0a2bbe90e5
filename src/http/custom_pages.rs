//! The organisation's own pages (`ui.pages_dir`, docs/pages.md): a Jinja template named like a
//! built-in page replaces it and gets the same values; other `.html` files there are layouts and
//! parts the pages extend or include; `assets/` is served under `{prefix}/static/site/`.
//! Everything is read and compiled once at start, so a syntax error stops the start (and
//! `check-config`) with file and line, and no request touches the file system.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::branding::Asset;

/// The built-in pages, by the file name a folder replaces them with.
pub const PAGE_FILES: [&str; 8] = [
    "login.html",
    "wait.html",
    "phone_check.html",
    "phone_notice.html",
    "signed_in.html",
    "not_allowed.html",
    "me.html",
    "error.html",
];

/// Larger than a page template or a stylesheet needs to be; everything stays in memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
const MAX_ASSETS: usize = 64;

/// A built-in page: its askama template, and the values an organisation's template gets.
pub trait Page: askama::Template + Serialize {
    /// One of [`PAGE_FILES`].
    const FILE: &'static str;
}

#[derive(Default)]
pub struct CustomPages {
    templates: Environment<'static>,
    replaced: Vec<&'static str>,
    assets: HashMap<String, Asset>,
}

impl CustomPages {
    pub fn load(dir: Option<&Path>) -> anyhow::Result<CustomPages> {
        let Some(dir) = dir else {
            return Ok(CustomPages::default());
        };
        let mut pages = CustomPages::default();
        // A typo in a page must not go unseen: it fails the page (which then falls back).
        pages
            .templates
            .set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, path) in folder_files(dir, "ui.pages_dir")? {
            if path.is_dir() {
                anyhow::ensure!(
                    name == "assets",
                    "ui.pages_dir: {} is a folder; the only folder allowed is assets/",
                    path.display()
                );
                pages.assets = load_assets(&path)?;
                continue;
            }
            anyhow::ensure!(
                name.ends_with(".html"),
                "ui.pages_dir: {} is neither a page template (.html) nor the assets/ folder",
                path.display()
            );
            let source = String::from_utf8(read_small(&path)?)
                .with_context(|| format!("ui.pages_dir: {} is not UTF-8", path.display()))?;
            if let Some(page) = PAGE_FILES.iter().find(|p| **p == name) {
                pages.replaced.push(page);
            }
            pages
                .templates
                .add_template_owned(name, source)
                .map_err(|e| anyhow::anyhow!("ui.pages_dir: {e}"))?;
        }
        pages.replaced.sort_unstable();
        Ok(pages)
    }

    /// The page as the organisation wrote it, or the built-in one. A template that fails here
    /// (a misspelt value, a missing layout) is logged and the built-in page shown: a broken
    /// custom page must not lock people out of signing in.
    pub fn render<P: Page>(&self, page: &P) -> anyhow::Result<String> {
        if self.replaced.contains(&P::FILE) {
            let rendered = self
                .templates
                .get_template(P::FILE)
                .and_then(|t| t.render(minijinja::value::Serde(page)));
            match rendered {
                Ok(html) => return Ok(html),
                Err(e) => {
                    metrics::counter!("kepgate_custom_page_failures_total", "page" => P::FILE)
                        .increment(1);
                    tracing::error!(page = P::FILE, error = %e,
                        "the organisation's page failed; the built-in one is shown");
                }
            }
        }
        Ok(page.render()?)
    }

    /// The built-in pages this folder replaces, by file name.
    pub fn replaced(&self) -> &[&'static str] {
        &self.replaced
    }

    /// `{prefix}/static/site/{name}`.
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.get(name)
    }

    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }
}

/// The files of a folder by name, in name order. Names are plain (letters, digits, `.`, `_`,
/// `-`, not starting with a dot) so a file's name is also its URL without any escaping.
fn folder_files(dir: &Path, setting: &str) -> anyhow::Result<Vec<(String, std::path::PathBuf)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{setting}: cannot read the folder {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("{setting}: cannot read the folder {}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| is_plain_name(n))
            .with_context(|| {
                format!(
                    "{setting}: {} has a name other than letters, digits, '.', '_' and '-'",
                    path.display()
                )
            })?
            .to_owned();
        files.push((name, path));
    }
    files.sort();
    Ok(files)
}

fn is_plain_name(name: &str) -> bool {
    !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn load_assets(dir: &Path) -> anyhow::Result<HashMap<String, Asset>> {
    let files = folder_files(dir, "ui.pages_dir")?;
    anyhow::ensure!(
        files.len() <= MAX_ASSETS,
        "ui.pages_dir: {} holds {} files, more than {MAX_ASSETS}",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|(name, path)| {
            let content_type = content_type(&name).with_context(|| {
                format!(
                    "ui.pages_dir: {} is not one of .css, .js, .png, .svg, .jpg, .webp, .ico, \
                     .woff2",
                    path.display()
                )
            })?;
            let bytes = read_small(&path)?.into();
            Ok((
                name,
                Asset {
                    bytes,
                    content_type,
                },
            ))
        })
        .collect()
}

fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

fn read_small(path: &Path) -> anyhow::Result<Vec<u8>> {
    let cannot_read = || format!("ui.pages_dir: cannot read {}", path.display());
    let size = std::fs::metadata(path).with_context(cannot_read)?.len();
    anyhow::ensure!(
        size <= MAX_FILE_BYTES,
        "ui.pages_dir: {} is {size} bytes, more than {MAX_FILE_BYTES}",
        path.display()
    );
    std::fs::read(path).with_context(cannot_read)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of files, removed when dropped.
    struct Folder(std::path::PathBuf);

    impl Folder {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn folder(files: &[(&str, &str)]) -> Folder {
        let dir = Folder(
            std::env::temp_dir().join(format!("kepgate-pages-{}", uuid::Uuid::new_v4().simple())),
        );
        for (name, content) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        dir
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let dir = folder(&[("login.html", "<p>\n{% if x %}\n")]);
        let e = CustomPages::load(Some(dir.path())).err().unwrap();
        let message = format!("{e:#}");
        assert!(message.contains("login.html:"), "{message}");
    }

    #[test]
    fn pages_layouts_and_assets_are_told_apart() {
        let dir = folder(&[
            ("login.html", "{% extends 'layout.html' %}"),
            (
                "layout.html",
                "<main>{% block content %}{% endblock %}</main>",
            ),
            ("assets/site.css", "body{}"),
        ]);
        let pages = CustomPages::load(Some(dir.path())).unwrap();
        assert_eq!(pages.replaced(), ["login.html"]);
        let css = pages.asset("site.css").unwrap();
        assert_eq!(css.content_type, "text/css; charset=utf-8");
        assert!(pages.asset("layout.html").is_none());
    }

    #[test]
    fn unknown_files_and_unsafe_names_are_refused() {
        for (files, expected) in [
            (vec![("notes.txt", "")], "neither a page template"),
            (vec![("assets/run.exe", "")], "is not one of"),
            (vec![("assets/a b.css", "")], "has a name other than"),
            (vec![("partials/x.html", "")], "the only folder allowed"),
        ] {
            let dir = folder(&files);
            let message = format!("{:#}", CustomPages::load(Some(dir.path())).err().unwrap());
            assert!(message.contains(expected), "{message}");
        }
    }
}
