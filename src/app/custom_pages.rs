//! The organisation's pages (`ui.pages_dir`) loaded and tried at start, for `serve` and
//! `check-config` alike: each page it replaces is rendered with that page's placeholder values
//! (`Page::samples`). The page types live in the features, which the web layer that loads the
//! folder cannot name; here every one of them is.

use crate::account::MePage;
use crate::config::Settings;
use crate::document_signing::SignPage;
use crate::http::custom_pages::{CustomPages, Page};
use crate::http::error_pages::ErrorPage;
use crate::login::form::LoginPage;
use crate::login::phone_check::{PhoneCheckPage, PhoneNotice};
use crate::login::waiting::WaitPage;
use crate::proxy::pages::SignedInPage;
use crate::proxy::reverse_proxy::NotAllowedPage;

/// The folder's templates, each replaced page shown once with sample values: a page that cannot
/// be shown stops the start with its file and reason.
pub fn load_custom_pages(settings: &Settings) -> anyhow::Result<CustomPages> {
    let pages = CustomPages::load(settings.ui.pages_dir.as_deref())?;
    for (_, check) in checks() {
        check(&pages, settings)?;
    }
    Ok(pages)
}

type Check = fn(&CustomPages, &Settings) -> anyhow::Result<()>;

fn check<P: Page>() -> (&'static str, Check) {
    (P::FILE, CustomPages::check::<P>)
}

/// One for each of `PAGE_FILES`.
fn checks() -> [(&'static str, Check); 9] {
    [
        check::<LoginPage>(),
        check::<WaitPage>(),
        check::<PhoneCheckPage>(),
        check::<PhoneNotice>(),
        check::<SignedInPage>(),
        check::<NotAllowedPage>(),
        check::<MePage>(),
        check::<SignPage>(),
        check::<ErrorPage<'static>>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::custom_pages::PAGE_FILES;

    #[test]
    fn every_replaceable_page_is_tried() {
        let mut checked: Vec<&str> = checks().iter().map(|(file, _)| *file).collect();
        checked.sort_unstable();
        let mut files = PAGE_FILES.to_vec();
        files.sort_unstable();
        assert_eq!(checked, files);
    }
}
