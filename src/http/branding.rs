//! The organisation's look (`[ui.branding]`): its logo and colour (served under the prefix by
//! `pages.rs`), and what every page's frame shows of it. Loaded once at start; a missing or
//! oversized logo, or one that is a link or not a regular file, stops the start (and
//! `check-config`) with its path.

use super::operator_files::read_regular_file;
use crate::config::{BrandingSettings, ServerSettings, is_support_url, parse_hex_color};
use crate::language::Lang;

/// Larger than any logo needs to be, small enough to keep in memory on every replica.
const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// A file kepgate serves as it is, kept in memory.
pub struct Asset {
    pub bytes: axum::body::Bytes,
    pub content_type: &'static str,
}

/// What is served (`pages::logo`, `pages::brand_stylesheet`): the logo and the colour's
/// stylesheet.
#[derive(Default)]
pub struct Branding {
    pub logo: Option<Asset>,
    pub stylesheet: Option<Asset>,
}

impl Branding {
    pub fn load(settings: &BrandingSettings) -> anyhow::Result<Branding> {
        let logo = settings.logo_file.as_deref().map(load_logo).transpose()?;
        // The configuration check has refused anything but a readable #rgb/#rrggbb.
        let stylesheet = settings
            .accent_color
            .as_deref()
            .and_then(parse_hex_color)
            .map(|[r, g, b]| Asset {
                bytes: format!(":root {{ --accent: #{r:02x}{g:02x}{b:02x}; }}\n").into(),
                content_type: "text/css; charset=utf-8",
            });
        Ok(Branding { logo, stylesheet })
    }
}

fn load_logo(path: &std::path::Path) -> anyhow::Result<Asset> {
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => anyhow::bail!(
            "ui.branding.logo_file: {} is not .png, .svg, .jpg or .webp",
            path.display()
        ),
    };
    // A regular file only, not through a link, bounded by what is read (`operator_files`).
    let bytes = read_regular_file(path, "ui.branding.logo_file", MAX_LOGO_BYTES)?;
    Ok(Asset {
        bytes: bytes.into(),
        content_type,
    })
}

/// What a page's frame shows of the organisation, in the page's language.
#[derive(Default, serde::Serialize)]
pub struct BrandView {
    pub organization: Option<String>,
    pub logo_href: Option<String>,
    pub stylesheet_href: Option<String>,
    pub support: Option<String>,
    pub support_href: Option<String>,
    pub footer: Option<String>,
}

impl BrandView {
    pub fn new(settings: &BrandingSettings, server: &ServerSettings, lang: Lang) -> BrandView {
        let pick = |uk: &Option<String>, en: &Option<String>| match lang {
            Lang::En => en.clone().or_else(|| uk.clone()),
            Lang::Uk => uk.clone(),
        };
        BrandView {
            organization: pick(&settings.organization, &settings.organization_en),
            logo_href: settings
                .logo_file
                .as_ref()
                .map(|_| server.path("/static/logo")),
            stylesheet_href: settings
                .accent_color
                .as_ref()
                .map(|_| server.path("/static/brand.css")),
            support: pick(&settings.support, &settings.support_en),
            // Checked at start too; a page never gets a link that could run script.
            support_href: settings
                .support_url
                .clone()
                .filter(|url| is_support_url(url)),
            footer: pick(&settings.footer, &settings.footer_en),
        }
    }
}
