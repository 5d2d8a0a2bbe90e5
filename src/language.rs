//! The two languages of every page: Ukrainian (default) and English.
//!
//! Chosen by, in order: the `kepgate_lang` cookie set by the page's switch, `Accept-Language`,
//! then `ui.default_language`. Texts are plain structs so a missing translation is a compile
//! error, not a blank on the page.

use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

pub const LANG_COOKIE: &str = "kepgate_lang";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Ukrainian.
    #[default]
    Uk,
    /// English.
    En,
}

impl Texts {
    /// The wording of a login history event (`login_history.event`).
    pub fn history_event(&self, event: &str) -> &'static str {
        match event {
            "started" => self.event_started,
            "confirmed" => self.event_confirmed,
            "declined" => self.event_declined,
            "expired" => self.event_expired,
            "refused" => self.event_refused,
            "completed" => self.event_completed,
            "logout" => self.event_logout,
            "suspicious" => self.event_suspicious,
            _ => self.event_revoked,
        }
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim();
        if primary.eq_ignore_ascii_case("uk") {
            Some(Lang::Uk)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Uk => Lang::En,
            Lang::En => Lang::Uk,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Uk => &UK,
            Lang::En => &EN,
        }
    }

    /// Picks the language for a request from its headers.
    pub fn negotiate(
        cookie_header: Option<&str>,
        accept_language: Option<&str>,
        default: Lang,
    ) -> Lang {
        if let Some(lang) = cookie_header
            .and_then(|c| cookie_value(c, LANG_COOKIE))
            .and_then(Lang::parse)
        {
            return lang;
        }
        accept_language.and_then(best_accepted).unwrap_or(default)
    }
}

/// The highest-weighted language from `Accept-Language` that we speak (RFC 9110 §12.5.4).
fn best_accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(tag) = parts.next().map(str::trim) else {
            continue;
        };
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        // Russian-speaking Ukrainian users get Ukrainian, not English.
        let lang = Lang::parse(tag).or_else(|| {
            tag.to_ascii_lowercase()
                .starts_with("ru")
                .then_some(Lang::Uk)
        });
        if let Some(lang) = lang
            && best.is_none_or(|(_, q)| quality > q)
        {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

/// Value of one cookie from a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

impl Lang {
    pub fn from_parts(parts: &Parts, default: Lang) -> Lang {
        let cookies = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let accept = parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Lang::negotiate(Some(&cookies), accept, default)
    }
}

/// Every string kepgate shows, in one language.
#[derive(Serialize)]
pub struct Texts {
    pub lang_name: &'static str,
    pub switch_to: &'static str,
    /// Before the organisation's support contact in the footer.
    pub support_label: &'static str,
    pub request_id: &'static str,
    pub go_home: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request_body: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub timeout_title: &'static str,
    pub timeout_body: &'static str,
    pub too_many_title: &'static str,
    pub too_many_body: &'static str,
    pub busy_title: &'static str,
    pub busy_body: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    pub internal_title: &'static str,
    pub internal_body: &'static str,
    pub error_hint: &'static str,
    pub login_title: &'static str,
    pub tab_cloud: &'static str,
    pub cloud_intro: &'static str,
    pub provider_label: &'static str,
    pub user_hint_label: &'static str,
    pub user_hint_help: &'static str,
    pub get_link: &'static str,
    /// The login button for a provider that the browser goes to (id.gov.ua), before its name.
    pub sign_in_via: &'static str,
    pub no_providers: &'static str,
    pub wait_title: &'static str,
    /// The waiting page's heading once the login ended without the person getting in.
    pub wait_title_ended: &'static str,
    pub open_link: &'static str,
    pub open_link_help: &'static str,
    pub scan_qr: &'static str,
    pub qr_alt: &'static str,
    pub time_left: &'static str,
    pub seconds_short: &'static str,
    pub continue_btn: &'static str,
    pub noscript_hint: &'static str,
    /// «Продовжити» pressed before the phone confirmed.
    pub not_confirmed_yet: &'static str,
    pub new_link: &'static str,
    pub status_label: &'static str,
    pub status_waiting: &'static str,
    pub status_confirmed: &'static str,
    pub status_consumed: &'static str,
    pub status_declined: &'static str,
    pub status_expired: &'static str,
    pub status_failed: &'static str,
    /// The provider answered but named no РНОКПП and no certificate.
    pub status_no_identity: &'static str,
    /// The certificate or the provider gave a name (organisation, title) with characters that
    /// are not text: the login is refused rather than the name changed.
    pub status_unusable_name: &'static str,
    /// A redirect provider sent the browser back without a code (cancelled there).
    pub status_cancelled_at_provider: &'static str,
    /// The provider refused the code: spent (a second use) or expired.
    pub status_code_refused: &'static str,
    /// The provider refused kepgate's own client (its credentials): the operator's mistake.
    pub status_client_refused: &'static str,
    /// The person signed in at the provider by a method the configuration does not allow.
    pub status_method_not_allowed: &'static str,
    pub status_provider_removed: &'static str,
    pub status_unsupported_algorithm: &'static str,
    pub status_certificate_revoked: &'static str,
    pub status_ca_certificate_revoked: &'static str,
    pub status_certificate_status_unknown: &'static str,
    pub provider_unavailable: &'static str,
    pub provider_timeout: &'static str,
    pub provider_not_configured: &'static str,
    pub notice_logged_out: &'static str,
    pub notice_session_ended: &'static str,
    pub signed_in_as: &'static str,
    pub rnokpp_label: &'static str,
    pub edrpou_label: &'static str,
    pub organization_label: &'static str,
    pub provider_used: &'static str,
    pub logout: &'static str,
    pub bad_gateway_title: &'static str,
    pub bad_gateway_body: &'static str,
    pub not_allowed_title: &'static str,
    pub not_allowed_body: &'static str,
    pub shared_pc_label: &'static str,
    pub shared_pc_help: &'static str,
    pub my_account: &'static str,
    pub me_title: &'static str,
    pub sessions_heading: &'static str,
    pub this_session: &'static str,
    pub session_started: &'static str,
    pub session_last_seen: &'static str,
    pub session_ends: &'static str,
    pub session_address: &'static str,
    pub session_device: &'static str,
    pub session_shared_pc: &'static str,
    pub end_session: &'static str,
    pub end_other_sessions: &'static str,
    pub notice_sessions_ended: &'static str,
    pub history_heading: &'static str,
    pub history_when: &'static str,
    pub history_event: &'static str,
    pub history_empty: &'static str,
    pub event_started: &'static str,
    pub event_confirmed: &'static str,
    pub event_declined: &'static str,
    pub event_expired: &'static str,
    pub event_refused: &'static str,
    pub event_completed: &'static str,
    pub event_logout: &'static str,
    pub event_revoked: &'static str,
    pub event_suspicious: &'static str,
    pub verification_code_label: &'static str,
    pub verification_code_help: &'static str,
    pub status_declined_on_phone: &'static str,
    pub status_wrong_code: &'static str,
    pub phone_title: &'static str,
    pub phone_intro: &'static str,
    pub phone_service_label: &'static str,
    pub phone_domain_label: &'static str,
    pub phone_time_label: &'static str,
    pub phone_computer_label: &'static str,
    pub phone_org_network: &'static str,
    pub phone_unknown_address: &'static str,
    pub phone_pick_code: &'static str,
    pub phone_decline: &'static str,
    pub phone_expired_title: &'static str,
    pub phone_expired_body: &'static str,
    pub phone_not_waiting_title: &'static str,
    pub phone_not_waiting_body: &'static str,
    pub phone_declined_title: &'static str,
    pub phone_declined_body: &'static str,
    pub phone_wrong_code_title: &'static str,
    pub phone_wrong_code_body: &'static str,
    pub sign_title: &'static str,
    pub sign_title_ended: &'static str,
    pub sign_intro: &'static str,
    pub sign_files_heading: &'static str,
    pub sign_file_size: &'static str,
    pub sign_file_hash: &'static str,
    pub sign_bytes: &'static str,
    pub sign_providers_note: &'static str,
    pub sign_status_waiting: &'static str,
    pub sign_status_signed: &'static str,
    pub sign_back: &'static str,
    pub sign_again: &'static str,
    pub signing_heading: &'static str,
    pub signing_empty: &'static str,
}

pub static UK: Texts = Texts {
    lang_name: "Українська",
    switch_to: "English",
    support_label: "Допомога",
    request_id: "Ідентифікатор запиту",
    go_home: "На головну",
    not_found_title: "Сторінку не знайдено",
    not_found_body: "За цією адресою нічого немає. Перевірте посилання.",
    bad_request_title: "Некоректний запит",
    bad_request_body: "Запит не вдалося обробити.",
    forbidden_title: "Доступ заборонено",
    forbidden_body: "У вас немає доступу до цієї сторінки.",
    too_large_title: "Запит завеликий",
    too_large_body: "Надіслані дані перевищують допустимий розмір.",
    timeout_title: "Час очікування вичерпано",
    timeout_body: "Сервер не встиг обробити запит. Спробуйте ще раз.",
    too_many_title: "Забагато спроб",
    too_many_body: "Зачекайте хвилину й спробуйте знову.",
    busy_title: "Забагато входів саме зараз",
    busy_body: "Зараз триває забагато входів. Спробуйте за хвилину.",
    unavailable_title: "Сервіс тимчасово недоступний",
    unavailable_body: "Не вдається зʼєднатися з базою даних. Спробуйте за кілька хвилин.",
    internal_title: "Внутрішня помилка",
    internal_body: "Щось пішло не так на нашому боці. Ми вже записали подробиці.",
    error_hint: "Якщо звертаєтеся до служби підтримки, назвіть цей ідентифікатор:",
    login_title: "Вхід за допомогою КЕП",
    tab_cloud: "Хмарне сховище",
    cloud_intro: "Оберіть провайдера, у якого зберігається ваш ключ, і підтвердьте вхід у його застосунку на телефоні.",
    provider_label: "Провайдер",
    user_hint_label: "Ідентифікатор користувача",
    user_hint_help: "Потрібен лише для деяких провайдерів.",
    get_link: "Отримати посилання",
    sign_in_via: "Увійти через",
    no_providers: "Жодного провайдера не налаштовано. Зверніться до адміністратора.",
    wait_title: "Підтвердіть вхід на телефоні",
    wait_title_ended: "Вхід не завершено",
    open_link: "Відкрити в застосунку",
    open_link_help: "На телефоні: натисніть кнопку, щоб відкрити застосунок провайдера.",
    scan_qr: "Відскануйте QR-код камерою телефону",
    qr_alt: "QR-код посилання для входу",
    time_left: "Посилання дійсне ще",
    seconds_short: "с",
    continue_btn: "Продовжити",
    noscript_hint: "Після підтвердження на телефоні натисніть «Продовжити».",
    not_confirmed_yet: "Телефон ще не підтвердив вхід. Підтвердьте запит у застосунку, тоді натисніть «Продовжити» ще раз.",
    new_link: "Отримати нове посилання",
    status_label: "Стан",
    status_waiting: "Очікуємо підтвердження в застосунку…",
    status_confirmed: "Підтверджено. Виконуємо вхід…",
    status_consumed: "Вхід уже виконано.",
    status_declined: "Запит відхилено в застосунку.",
    status_expired: "Час дії посилання минув.",
    status_failed: "Підпис не пройшов перевірку. Спробуйте ще раз.",
    status_cancelled_at_provider: "Вхід скасовано на сторінці провайдера.",
    status_no_identity: "Провайдер не повідомив ні РНОКПП, ні сертифіката, тож вхід неможливий. Увійдіть кваліфікованим ключем.",
    status_code_refused: "Код входу від провайдера вже використано або його строк минув. Почніть вхід знову.",
    status_client_refused: "Увійти через цього провайдера зараз неможливо: провайдер не прийняв налаштувань шлюзу. Зверніться до адміністратора.",
    status_method_not_allowed: "Цей спосіб входу тут не дозволено. Почніть вхід знову й оберіть кваліфікований електронний підпис.",
    status_provider_removed: "Цього провайдера щойно вимкнув адміністратор, тож цей вхід завершити не можна. Почніть вхід знову й оберіть іншого провайдера.",
    status_unusable_name: "Ім’я, організація чи посада в сертифікаті або у відповіді провайдера містять недопустимі символи, тож увійти так не можна. Спробувати ще раз не допоможе: зверніться до свого надавача електронних довірчих послуг.",
    status_unsupported_algorithm: "Цей тип ключа поки не підтримується.",
    status_certificate_revoked: "Сертифікат цього ключа відкликано центром сертифікації: увійти ним не можна. Зверніться до свого надавача послуг, щоб отримати новий ключ.",
    status_ca_certificate_revoked: "Сертифікат центру сертифікації, що видав цей ключ, відкликано: увійти ним не можна. Зверніться до свого надавача послуг, щоб отримати новий ключ.",
    status_certificate_status_unknown: "Не вдалося перевірити в центрі сертифікації, чи ключ не відкликано. Спробуйте ще раз за хвилину.",
    provider_unavailable: "Провайдер зараз недоступний. Спробуйте за хвилину.",
    provider_timeout: "Провайдер не відповідає. Спробуйте ще раз за хвилину.",
    provider_not_configured: "Провайдера ще не налаштовано. Зверніться до адміністратора.",
    notice_logged_out: "Ви вийшли.",
    notice_session_ended: "Ваш сеанс завершився. Увійдіть знову.",
    signed_in_as: "Ви увійшли як",
    rnokpp_label: "РНОКПП",
    edrpou_label: "ЄДРПОУ",
    organization_label: "Організація",
    provider_used: "Провайдер",
    logout: "Вийти",
    bad_gateway_title: "Кабінет тимчасово недоступний",
    bad_gateway_body: "Застосунок за шлюзом не відповідає. Спробуйте за кілька хвилин.",
    not_allowed_title: "Цей розділ вам недоступний",
    not_allowed_body: "Ви увійшли, але ваш ключ не дає доступу до цього розділу. Якщо потрібен інший ключ (наприклад, ключ компанії), вийдіть і увійдіть знову.",
    shared_pc_label: "Це громадський або спільний компʼютер",
    shared_pc_help: "Сеанс завершиться швидше після бездіяльності й не збережеться після закриття браузера.",
    my_account: "Мої сеанси та історія входів",
    me_title: "Мої сеанси",
    sessions_heading: "Активні сеанси",
    this_session: "цей сеанс",
    session_started: "Початок",
    session_last_seen: "Остання активність",
    session_ends: "Завершиться не пізніше",
    session_address: "Адреса",
    session_device: "Браузер",
    session_shared_pc: "спільний компʼютер",
    end_session: "Завершити",
    end_other_sessions: "Завершити всі мої сеанси",
    notice_sessions_ended: "Сеанси завершено.",
    history_heading: "Історія входів",
    history_when: "Час",
    history_event: "Подія",
    history_empty: "Записів поки немає.",
    event_started: "Вхід розпочато",
    event_confirmed: "Підтверджено на телефоні",
    event_declined: "Відхилено на телефоні",
    event_expired: "Час на підтвердження минув",
    event_refused: "Підпис не прийнято",
    event_completed: "Вхід виконано",
    event_logout: "Вихід",
    event_revoked: "Сеанс завершено примусово",
    event_suspicious: "Підозріла спроба",
    verification_code_label: "Код перевірки",
    verification_code_help: "На телефоні оберіть саме цей код.",
    status_declined_on_phone: "Вхід відхилено на телефоні.",
    status_wrong_code: "На телефоні обрали неправильний код — вхід скасовано з міркувань безпеки. Почніть заново.",
    phone_title: "Підтвердіть, що це ви входите",
    phone_intro: "Продовжуйте, лише якщо ви самі щойно почали вхід на своєму компʼютері й бачите його екран.",
    phone_service_label: "Сервіс",
    phone_domain_label: "Адреса сайту",
    phone_time_label: "Вхід розпочато",
    phone_computer_label: "Адреса компʼютера",
    phone_org_network: "мережа вашої організації",
    phone_unknown_address: "невідома",
    phone_pick_code: "Оберіть код, який показано на екрані компʼютера:",
    phone_decline: "Відхилити — це не я",
    phone_expired_title: "Цей код уже недійсний",
    phone_expired_body: "Код застарів. Відскануйте той, що зараз на екрані вашого компʼютера.",
    phone_not_waiting_title: "Цей вхід уже не чекає",
    phone_not_waiting_body: "Його вже завершено, відхилено або час минув. Почніть вхід заново на компʼютері.",
    phone_declined_title: "Вхід відхилено",
    phone_declined_body: "Компʼютер, на якому почали вхід, доступу не отримає. Якщо ви не починали вхід самі, ніде нічого не підтверджуйте.",
    phone_wrong_code_title: "Код не збігся — вхід скасовано",
    phone_wrong_code_body: "Так буває, коли хтось пересилає чужий QR-код. Якщо ви справді входите самі, почніть заново на своєму компʼютері.",
    sign_title: "Підписання документів",
    sign_title_ended: "Підписання завершено",
    sign_intro: "Кабінет просить підписати ці файли вашим ключем. Відкрийте посилання або відскануйте QR-код і підтвердьте в застосунку.",
    sign_files_heading: "Що підписується",
    sign_file_size: "Розмір",
    sign_file_hash: "Відбиток",
    sign_bytes: "байт",
    sign_providers_note: "Підписувати документи можуть:",
    sign_status_waiting: "Очікуємо підтвердження в застосунку…",
    sign_status_signed: "Підписано й перевірено. Повертаємося до кабінету…",
    sign_back: "Повернутися до кабінету",
    sign_again: "Спробувати ще раз",
    signing_heading: "Історія підписань",
    signing_empty: "Ви ще нічого не підписували.",
};

pub static EN: Texts = Texts {
    lang_name: "English",
    switch_to: "Українська",
    support_label: "Help",
    request_id: "Request ID",
    go_home: "Home",
    not_found_title: "Page not found",
    not_found_body: "There is nothing at this address. Check the link.",
    bad_request_title: "Bad request",
    bad_request_body: "The request could not be processed.",
    forbidden_title: "Access denied",
    forbidden_body: "You do not have access to this page.",
    too_large_title: "Request too large",
    too_large_body: "The data sent is larger than allowed.",
    timeout_title: "Request timed out",
    timeout_body: "The server did not finish in time. Please try again.",
    too_many_title: "Too many attempts",
    too_many_body: "Wait a minute and try again.",
    busy_title: "Too many logins right now",
    busy_body: "Too many logins are in progress right now. Please try again in a minute.",
    unavailable_title: "Service temporarily unavailable",
    unavailable_body: "The database cannot be reached. Please try again in a few minutes.",
    internal_title: "Internal error",
    internal_body: "Something went wrong on our side. The details have been logged.",
    error_hint: "If you contact support, quote this ID:",
    login_title: "Sign in with a qualified e-signature",
    tab_cloud: "Cloud storage",
    cloud_intro: "Choose the provider that keeps your key and confirm the sign-in in its app on your phone.",
    provider_label: "Provider",
    user_hint_label: "User identifier",
    user_hint_help: "Only some providers need it.",
    get_link: "Get the link",
    sign_in_via: "Sign in with",
    no_providers: "No provider is configured. Contact your administrator.",
    wait_title: "Confirm the sign-in on your phone",
    wait_title_ended: "Sign-in not completed",
    open_link: "Open in the app",
    open_link_help: "On a phone: tap the button to open the provider's app.",
    scan_qr: "Scan the QR code with your phone's camera",
    qr_alt: "QR code of the sign-in link",
    time_left: "The link is valid for",
    seconds_short: "s",
    continue_btn: "Continue",
    noscript_hint: "After confirming on your phone, press “Continue”.",
    not_confirmed_yet: "The phone has not confirmed the sign-in yet. Confirm the request in the app, then press “Continue” again.",
    new_link: "Get a new link",
    status_label: "Status",
    status_waiting: "Waiting for confirmation in the app…",
    status_confirmed: "Confirmed. Signing you in…",
    status_consumed: "Already signed in.",
    status_declined: "The request was declined in the app.",
    status_expired: "The link has expired.",
    status_failed: "The signature could not be verified. Please try again.",
    status_cancelled_at_provider: "Signing in was cancelled on the provider's page.",
    status_no_identity: "The provider named neither a taxpayer number nor a certificate, so you cannot sign in this way. Please use a qualified key.",
    status_code_refused: "The provider's sign-in code was already used or has expired. Please start again.",
    status_client_refused: "You cannot sign in with this provider right now: it did not accept the gateway's settings. Please contact the administrator.",
    status_method_not_allowed: "This way of signing in is not allowed here. Please start again and choose a qualified electronic signature.",
    status_provider_removed: "The administrator has just turned this provider off, so this sign-in cannot be completed. Please start again and choose another provider.",
    status_unusable_name: "The name, organisation or title in your certificate or in the provider's answer contains characters that are not allowed, so you cannot sign in this way. Trying again will not help: please contact your trust service provider.",
    status_unsupported_algorithm: "This key type is not supported yet.",
    status_certificate_revoked: "The certificate of this key has been revoked by its certification authority: it cannot be used to sign in. Ask your provider for a new key.",
    status_ca_certificate_revoked: "The certificate of the certification authority that issued this key has been revoked: the key cannot be used to sign in. Ask your provider for a new key.",
    status_certificate_status_unknown: "The certification authority could not confirm that this key is not revoked. Try again in a minute.",
    provider_unavailable: "The provider is unavailable right now. Try again in a minute.",
    provider_timeout: "The provider is not answering. Try again in a minute.",
    provider_not_configured: "The provider is not set up yet. Contact your administrator.",
    notice_logged_out: "You have signed out.",
    notice_session_ended: "Your session has ended. Please sign in again.",
    signed_in_as: "Signed in as",
    rnokpp_label: "Taxpayer number (RNOKPP)",
    edrpou_label: "Company code (EDRPOU)",
    organization_label: "Organisation",
    provider_used: "Provider",
    logout: "Sign out",
    bad_gateway_title: "The application is unavailable",
    bad_gateway_body: "The application behind the gateway does not answer. Please try again in a few minutes.",
    not_allowed_title: "This section is not available to you",
    not_allowed_body: "You are signed in, but your key does not give access to this section. If you need another key (a company key, say), sign out and sign in again.",
    shared_pc_label: "This is a public or shared computer",
    shared_pc_help: "The session ends sooner when idle and does not outlive the browser.",
    my_account: "My sessions and sign-in history",
    me_title: "My sessions",
    sessions_heading: "Active sessions",
    this_session: "this session",
    session_started: "Started",
    session_last_seen: "Last active",
    session_ends: "Ends at the latest",
    session_address: "Address",
    session_device: "Browser",
    session_shared_pc: "shared computer",
    end_session: "End",
    end_other_sessions: "End all my sessions",
    notice_sessions_ended: "The sessions have been ended.",
    history_heading: "Sign-in history",
    history_when: "Time",
    history_event: "Event",
    history_empty: "No entries yet.",
    event_started: "Sign-in started",
    event_confirmed: "Confirmed on the phone",
    event_declined: "Declined on the phone",
    event_expired: "Not confirmed in time",
    event_refused: "Signature refused",
    event_completed: "Signed in",
    event_logout: "Signed out",
    event_revoked: "Session ended remotely",
    event_suspicious: "Suspicious attempt",
    verification_code_label: "Verification code",
    verification_code_help: "On your phone, pick this very code.",
    status_declined_on_phone: "The sign-in was declined on the phone.",
    status_wrong_code: "A wrong code was picked on the phone, so the sign-in was cancelled for safety. Start again.",
    phone_title: "Confirm that it is you signing in",
    phone_intro: "Continue only if you have just started this sign-in on your own computer and can see its screen.",
    phone_service_label: "Service",
    phone_domain_label: "Website",
    phone_time_label: "Sign-in started",
    phone_computer_label: "Computer's address",
    phone_org_network: "your organisation's network",
    phone_unknown_address: "unknown",
    phone_pick_code: "Pick the code shown on the computer's screen:",
    phone_decline: "Decline — this is not me",
    phone_expired_title: "This code has expired",
    phone_expired_body: "This code has expired. Scan the one on your screen now.",
    phone_not_waiting_title: "This sign-in is no longer waiting",
    phone_not_waiting_body: "It has been finished, declined or has timed out. Start again on the computer.",
    phone_declined_title: "Sign-in declined",
    phone_declined_body: "The computer that started it will not be let in. If you did not start this sign-in yourself, do not confirm anything anywhere.",
    phone_wrong_code_title: "The code did not match — sign-in cancelled",
    phone_wrong_code_body: "This happens when someone forwards a QR code that is not yours. If you really are signing in yourself, start again on your own computer.",
    sign_title: "Signing documents",
    sign_title_ended: "Signing has ended",
    sign_intro: "The cabinet asks you to sign these files with your key. Open the link or scan the QR code and confirm in the app.",
    sign_files_heading: "What is signed",
    sign_file_size: "Size",
    sign_file_hash: "Fingerprint",
    sign_bytes: "bytes",
    sign_providers_note: "Providers that can sign documents:",
    sign_status_waiting: "Waiting for your confirmation in the app…",
    sign_status_signed: "Signed and verified. Returning to the cabinet…",
    sign_back: "Back to the cabinet",
    sign_again: "Try again",
    signing_heading: "Signing history",
    signing_empty: "You have not signed anything yet.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_choice_beats_accept_language() {
        assert_eq!(
            Lang::negotiate(Some("a=b; kepgate_lang=en"), Some("uk"), Lang::Uk),
            Lang::En
        );
    }

    #[test]
    fn accept_language_weights_are_respected() {
        assert_eq!(
            Lang::negotiate(None, Some("de, en;q=0.5, uk;q=0.9"), Lang::En),
            Lang::Uk
        );
        assert_eq!(
            Lang::negotiate(None, Some("en-GB,en;q=0.9"), Lang::Uk),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("ru-RU"), Lang::En), Lang::Uk);
        assert_eq!(Lang::negotiate(None, Some("de, fr"), Lang::En), Lang::En);
        assert_eq!(
            Lang::negotiate(None, Some("uk;q=0, en"), Lang::Uk),
            Lang::En
        );
    }

    #[test]
    fn unknown_cookie_value_falls_back_to_header() {
        assert_eq!(
            Lang::negotiate(Some("kepgate_lang=xx"), Some("en"), Lang::Uk),
            Lang::En
        );
    }
}
