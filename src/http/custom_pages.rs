//! The organisation's own pages (`ui.pages_dir`, docs/pages.md): a Jinja template named like a
//! built-in page replaces it and gets the same values; other `.html` files there are layouts and
//! parts the pages extend or include; `assets/` is served under `{prefix}/static/site/`.
//! Everything is read and compiled once at start, so a syntax error stops the start (and
//! `check-config`) with file and line, and no request touches the file system. Every entry of
//! the folder must be a regular file or `assets/` a real folder, never a link, a FIFO or a
//! device (`operator_files`); the folder itself may be a link. Each replaced page is rendered
//! once at start with placeholder values of its own types ([`CustomPages::check`]), so a page
//! that fails on its values stops the start too, rather than fall back at every request.
//!
//! Every value a page prints is HTML-escaped, whatever the file is called and whatever the page
//! says (`{% autoescape false %}` changes nothing): names come from certificates and from
//! id.gov.ua's unsigned answer, the device from `User-Agent`. `|safe` lets through only what
//! kepgate built as markup itself ([`Markup`]); an unquoted `attr={{ … }}` is refused at start,
//! as escaping cannot keep a value inside an attribute without quotes.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, HtmlEscape, Output, State, UndefinedBehavior, Value,
};
use serde::Serialize;

use super::branding::Asset;
use super::operator_files::{EntryKind, entry_kind, read_regular_file};
use crate::config::Settings;
use crate::language::Lang;

/// The built-in pages, by the file name a folder replaces them with.
pub const PAGE_FILES: [&str; 9] = [
    "login.html",
    "wait.html",
    "phone_check.html",
    "phone_notice.html",
    "signed_in.html",
    "not_allowed.html",
    "me.html",
    "sign.html",
    "error.html",
];

const SETTING: &str = "ui.pages_dir";
/// Larger than a page template or a stylesheet needs to be; everything stays in memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
const MAX_ASSETS: usize = 64;

/// A built-in page: its askama template, and the values an organisation's template gets.
pub trait Page: askama::Template + Serialize + Sized {
    /// One of [`PAGE_FILES`].
    const FILE: &'static str;

    /// The page with placeholder values of its own types, for [`CustomPages::check`]: first with
    /// every optional value present and every list holding items, then as it is shown most
    /// plainly (no optional value, lists as short as they really get).
    fn samples(settings: &Settings, lang: Lang) -> [Self; 2];
}

/// Values the pages' samples share ([`Page::samples`]): what they print, not what they mean.
pub mod placeholder {
    pub const FULL_NAME: &str = "Шевченко Тарас Григорович";
    pub const RNOKPP: &str = "1234567890";
    pub const EDRPOU: &str = "12345678";
    pub const ORGANIZATION: &str = "ТОВ «Зразок»";
    pub const PROVIDER: &str = "Дія";
    pub const CSRF: &str = "placeholder-csrf-token";
    pub const ADDRESS: &str = "192.0.2.10";
    pub const DEVICE: &str = "Firefox, Linux";
    pub const TIME: &str = "01.01.2026 12:00";
}

/// What the two samples of [`Page::samples`] are, for the message of a page that fails.
const SAMPLES: [&str; 2] = ["every optional value present", "no optional value present"];

/// Markup kepgate built itself (the waiting page's QR code as SVG, whose only input is the
/// link, drawn as modules): the one kind of value a page may print unescaped, as `{{ qr_svg }}`
/// or `{{ qr_svg|safe }}`.
pub struct Markup(String);

impl Markup {
    /// Only for markup whose every byte kepgate wrote: never text from outside.
    pub fn built_by_kepgate(markup: String) -> Markup {
        Markup(markup)
    }
}

/// Unescaped, for the built-in (askama) page's `|safe`.
impl std::fmt::Display for Markup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value MiniJinja knows to be safe markup; elsewhere, the plain string.
impl Serialize for Markup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Value::from_safe_string(self.0.clone()).serialize(serializer)
    }
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
        let mut pages = CustomPages {
            templates: environment(),
            ..CustomPages::default()
        };
        for (name, path) in folder_files(dir, SETTING)? {
            if entry_kind(&path, SETTING)? == EntryKind::Folder {
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
            let source = String::from_utf8(read_regular_file(&path, SETTING, MAX_FILE_BYTES)?)
                .with_context(|| format!("ui.pages_dir: {} is not UTF-8", path.display()))?;
            if let Some(line) = unquoted_attribute_value(&source) {
                anyhow::bail!(
                    "ui.pages_dir: {name}:{line}: an attribute's value must be in quotes \
                     (attr=\"{{{{ … }}}}\"): unquoted, a value with a space adds attributes of its own"
                );
            }
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
    /// (on values its samples at start did not have) is logged and the built-in page shown: a
    /// broken custom page must not lock people out of signing in.
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

    /// Renders the folder's `P`, if it replaces it, with `P`'s placeholder values in both
    /// languages: a page that fails on its values (`|safe` on a value that is text, a misspelt
    /// name, a filter given the wrong type) stops the start and `check-config` with file and
    /// reason, rather than fall back to the built-in page at every request.
    pub fn check<P: Page>(&self, settings: &Settings) -> anyhow::Result<()> {
        if !self.replaced.contains(&P::FILE) {
            return Ok(());
        }
        let template = self
            .templates
            .get_template(P::FILE)
            .map_err(|e| anyhow::anyhow!("ui.pages_dir: {e}"))?;
        for lang in [Lang::Uk, Lang::En] {
            for (page, sample) in P::samples(settings, lang).iter().zip(SAMPLES) {
                template
                    .render(minijinja::value::Serde(page))
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "ui.pages_dir: {} cannot be shown (tried in {} with {sample}): {e}",
                            P::FILE,
                            lang.code()
                        )
                    })?;
            }
        }
        Ok(())
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

/// The engine for the folder's templates: MiniJinja's filters, tests and functions, every
/// template HTML-escaped (decided here, not by MiniJinja's guess from the file name), and `|safe`
/// for kepgate's [`Markup`] only.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A typo in a page must not go unseen: it fails the page (which then falls back).
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(escape_always);
    env.add_filter("safe", markup_only);
    env
}

/// MiniJinja's HTML escaping, also where a page turned it off (`{% autoescape false %}`): the
/// values are the same people's names and browsers' words there.
fn escape_always(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_safe() || *state.auto_escape() == AutoEscape::Html {
        return minijinja::escape_formatter(out, state, value);
    }
    write!(out, "{}", HtmlEscape(&value.to_string()))
        .map_err(|e| Error::new(ErrorKind::WriteFailure, "writing the page").with_source(e))
}

/// `|safe` on kepgate's [`Markup`] (or on none: no QR code) changes nothing; on anything else
/// it fails the page, which is then shown as kepgate's own (logged and counted), rather than
/// print a value as markup.
fn markup_only(value: Value) -> Result<Value, Error> {
    if value.is_safe() || value.is_none() {
        return Ok(value);
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        "|safe is only for kepgate's own markup (qr_svg); every other value is text",
    ))
}

/// The line of the first `{{ … }}` printed inside a tag but not inside a quoted attribute
/// value: `a href={{ v }}`, `a href = {{ v }}`, `a href=/x?n={{ v }}`, `a href={% if … %}{{ v }}`,
/// `a {{ v }}`. There a value with a space or `>` adds attributes (or markup) of its own, which
/// HTML escaping does not stop. A lexer of HTML's tag states (WHATWG HTML §13.2.5, as far as
/// attributes go); a template statement or comment prints nothing of its own and leaves the
/// state as it was.
fn unquoted_attribute_value(source: &str) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Html {
        Text,
        /// Inside a tag, outside any value: names, `=`, whitespace.
        Tag,
        /// After `=`, before the value's first character.
        BeforeValue,
        Unquoted,
        Quoted(u8),
    }
    let bytes = source.as_bytes();
    let skip_to = |from: usize, close: &[u8]| {
        bytes[from..]
            .windows(close.len())
            .position(|w| w == close)
            .map_or(bytes.len(), |at| from + at + close.len())
    };
    let mut state = Html::Text;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"{%") || rest.starts_with(b"{#") {
            i = skip_to(i + 2, if rest[1] == b'%' { b"%}" } else { b"#}" });
            continue;
        }
        if rest.starts_with(b"{{") {
            if !matches!(state, Html::Text | Html::Quoted(_)) {
                return Some(bytes[..i].iter().filter(|&&b| b == b'\n').count() + 1);
            }
            i = skip_to(i + 2, b"}}");
            continue;
        }
        if state == Html::Text && rest.starts_with(b"<!--") {
            i = skip_to(i + 4, b"-->");
            continue;
        }
        let next = rest.get(1).copied().unwrap_or_default();
        state = match (state, rest[0]) {
            (Html::Text, b'<') if next.is_ascii_alphabetic() || next == b'/' => Html::Tag,
            (Html::Text, _) => Html::Text,
            (Html::Tag | Html::BeforeValue | Html::Unquoted, b'>') => Html::Text,
            (Html::Tag, b'=') => Html::BeforeValue,
            (Html::Tag, _) => Html::Tag,
            (Html::BeforeValue, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => Html::BeforeValue,
            (Html::BeforeValue, q @ (b'"' | b'\'')) => Html::Quoted(q),
            (Html::BeforeValue, _) => Html::Unquoted,
            (Html::Unquoted, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => Html::Tag,
            (Html::Unquoted, _) => Html::Unquoted,
            (Html::Quoted(q), c) if c == q => Html::Tag,
            (Html::Quoted(q), _) => Html::Quoted(q),
        };
        i += 1;
    }
    None
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

/// `assets/`: files only, no folder inside (a file's name is its URL).
fn load_assets(dir: &Path) -> anyhow::Result<HashMap<String, Asset>> {
    let files = folder_files(dir, SETTING)?;
    anyhow::ensure!(
        files.len() <= MAX_ASSETS,
        "ui.pages_dir: {} holds {} files, more than {MAX_ASSETS}",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|(name, path)| {
            anyhow::ensure!(
                entry_kind(&path, SETTING)? == EntryKind::File,
                "ui.pages_dir: {} is a folder; assets/ holds files only",
                path.display()
            );
            let content_type = content_type(&name).with_context(|| {
                format!(
                    "ui.pages_dir: {} is not one of .css, .js, .png, .svg, .jpg, .webp, .ico, \
                     .woff2",
                    path.display()
                )
            })?;
            let bytes = read_regular_file(&path, SETTING, MAX_FILE_BYTES)?.into();
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

    /// `name` of the folder rendered with `v` (and kepgate's markup as `markup`).
    fn rendered(pages: &CustomPages, name: &str, v: &str) -> Result<String, Error> {
        pages.templates.get_template(name)?.render(minijinja::context! {
            v => v,
            markup => Value::from(minijinja::value::Serde(Markup::built_by_kepgate("<svg></svg>".to_owned()))),
        })
    }

    #[test]
    fn every_value_is_escaped_whatever_the_page_says() {
        let dir = folder(&[
            ("login.html", "<p title=\"{{ v }}\">{{ v }}</p>{{ markup }}"),
            (
                "wait.html",
                "{% autoescape false %}<p>{{ v }}</p>{{ v ~ markup }}{% endautoescape %}",
            ),
            (
                "layout.html",
                "{% macro m(x) %}<b>{{ x }}</b>{% endmacro %}{{ m(v) }}",
            ),
        ]);
        let pages = CustomPages::load(Some(dir.path())).unwrap();
        let hostile = r#"<x>"'&"#;
        assert_eq!(
            rendered(&pages, "login.html", hostile).unwrap(),
            "<p title=\"&lt;x&gt;&quot;&#x27;&amp;\">&lt;x&gt;&quot;&#x27;&amp;</p><svg></svg>"
        );
        let wait = rendered(&pages, "wait.html", hostile).unwrap();
        assert!(!wait.contains("<x>"), "{wait}");
        let layout = rendered(&pages, "layout.html", hostile).unwrap();
        assert_eq!(layout, "<b>&lt;x&gt;&quot;&#x27;&amp;</b>");
    }

    #[test]
    fn safe_lets_only_kepgates_markup_through() {
        let dir = folder(&[
            ("wait.html", "{{ markup|safe }}{{ none|safe }}"),
            ("login.html", "{{ v|safe }}"),
            ("me.html", "{{ '<i>'|safe }}"),
        ]);
        let pages = CustomPages::load(Some(dir.path())).unwrap();
        assert_eq!(
            rendered(&pages, "wait.html", "").unwrap(),
            "<svg></svg>None"
        );
        for page in ["login.html", "me.html"] {
            let e = rendered(&pages, page, "<x>").unwrap_err();
            assert!(
                e.to_string().contains("only for kepgate's own markup"),
                "{e}"
            );
        }
    }

    #[test]
    fn an_unquoted_attribute_value_is_refused_with_its_line() {
        for source in [
            "<p>\n<a href={{ v }}>",
            "<p>\n<a data-x= {{ v }}>",
            // Spellings HTML allows as well: whitespace around `=`, text or a statement
            // before the value, any name, the value printed where a name goes.
            "<p>\n<a title = {{ v }}>",
            "<p>\n<a title=\n  {{ v }}>",
            "<p>\n<a href=/x?n={{ v }}>",
            "<p>\n<a title={% if true %}{{ v }}{% endif %}>",
            "<p>\n<a data-x.={{ v }}>",
            "<p>\n<a {{ v }}>",
            "<p>\n<a title=\"ok\" alt={{ v }}>",
        ] {
            let dir = folder(&[("login.html", source)]);
            let message = format!("{:#}", CustomPages::load(Some(dir.path())).err().unwrap());
            // The line of the value printed.
            let line = source[..source.find("{{").unwrap()].matches('\n').count() + 1;
            assert!(
                message.contains(&format!(
                    "login.html:{line}: an attribute's value must be in quotes"
                )),
                "{message}"
            );
        }
        for fine in [
            "<a href=\"{{ v }}\">{% if v == 'a' %}x = {{ v }}{% endif %}</a>",
            "<a title='{{ v }}' {% if v %}hidden{% endif %}>a < b = {{ v }}</a>",
            "<a title={% if v %}\"{{ v }}\"{% else %}'x'{% endif %}>ü {{ v }}</a>",
            "<!-- <a href={{ v }}> -->{# <a href={{ v }}> #}<p>{{ v }}</p>",
        ] {
            let dir = folder(&[("login.html", fine)]);
            CustomPages::load(Some(dir.path())).unwrap_or_else(|e| panic!("{fine}: {e:#}"));
        }
    }

    #[test]
    fn unknown_files_and_unsafe_names_are_refused() {
        for (files, expected) in [
            (vec![("notes.txt", "")], "neither a page template"),
            (vec![("assets/run.exe", "")], "is not one of"),
            (vec![("assets/a b.css", "")], "has a name other than"),
            (vec![("partials/x.html", "")], "the only folder allowed"),
            (
                vec![("assets/fonts/a.woff2", "")],
                "assets/ holds files only",
            ),
        ] {
            let dir = folder(&files);
            let message = format!("{:#}", CustomPages::load(Some(dir.path())).err().unwrap());
            assert!(message.contains(expected), "{message}");
        }
    }
}
