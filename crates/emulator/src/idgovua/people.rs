//! Who logs in and how: the test people a login page offers ([`IdGovUaIdentity`]), the methods
//! ([`IdGovUaMethod`]), and the user-info object a login yields.
//!
//! The person and the director are the Diia emulator's [`TestIdentity`] people (same names and
//! numbers), so a demo shows one cast whichever provider signs in. The third, `passport`, is what
//! the user-info `drfocode` description allows besides an РНОКПП: "серія (за наявності) та номер
//! паспорта (для користувачів, які через свої релігійні переконання відмовляються від прийняття
//! реєстраційного номера облікової картки платника податків …)" (the spec's Додаток А, п. 8, as
//! quoted in GigabitOff/test-shop `app/Modules/SocialiteEx/Two/DiiaProvider.php`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::diia::TestIdentity;

/// What the real service sends for a value it does not have (liquio/liquio
/// `components/id-api/src/strategies/passport_libs/passport-govid/strategy.ts` lists `n/a` among
/// empty names).
pub(crate) const NOT_AVAILABLE: &str = "n/a";

/// The passport person's `drfocode`: Cyrillic series and six digits.
const PASSPORT_NUMBER: &str = "МЕ123456";

/// How the person identified themself: the `auth_type` values of the authorize request and of
/// the user info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdGovUaMethod {
    /// A qualified key: file, token or cloud.
    DigSign,
    /// Diia.Signature.
    DiiaId,
    /// A bank (BankID of the National Bank): no certificate.
    BankId,
}

impl IdGovUaMethod {
    /// In the order the login page lists them.
    pub const ALL: [IdGovUaMethod; 3] = [
        IdGovUaMethod::DigSign,
        IdGovUaMethod::DiiaId,
        IdGovUaMethod::BankId,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IdGovUaMethod::DigSign => "dig_sign",
            IdGovUaMethod::DiiaId => "diia_id",
            IdGovUaMethod::BankId => "bank_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == s)
    }

    /// The label on the login page.
    pub fn label(self) -> &'static str {
        match self {
            IdGovUaMethod::DigSign => "Файловий носій, токен або хмарний ключ",
            IdGovUaMethod::DiiaId => "Дія.Підпис",
            IdGovUaMethod::BankId => "BankID",
        }
    }

    /// The certificate's issuer as (`issuer`, `issuercn`); `None` for a login without one.
    fn issuer(self) -> Option<(&'static str, &'static str)> {
        match self {
            IdGovUaMethod::DigSign => Some((
                "O=Тестовий надавач емулятора;CN=Тестовий КНЕДП емулятора id.gov.ua;C=UA",
                "Тестовий КНЕДП емулятора id.gov.ua",
            )),
            IdGovUaMethod::DiiaId => Some((
                "O=Тестовий надавач емулятора;CN=Тестовий КНЕДП Дія.Підпису емулятора id.gov.ua;C=UA",
                "Тестовий КНЕДП Дія.Підпису емулятора id.gov.ua",
            )),
            IdGovUaMethod::BankId => None,
        }
    }
}

/// A test person of the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdGovUaIdentity {
    /// The Diia emulator's private individual ([`TestIdentity::Person`]).
    #[default]
    Person,
    /// The Diia emulator's company director ([`TestIdentity::Director`]).
    Director,
    /// A private individual without an РНОКПП: `drfocode` is a passport series and number.
    Passport,
}

/// Made-up contact details: `example.com` addresses and numbers of an unassigned range.
struct Contacts {
    locality: &'static str,
    state: &'static str,
    address: &'static str,
    email: &'static str,
    phone: &'static str,
    /// Unified Demographic Register record number (passport booklets have none).
    unzr: Option<&'static str>,
}

impl IdGovUaIdentity {
    pub const ALL: [IdGovUaIdentity; 3] = [
        IdGovUaIdentity::Person,
        IdGovUaIdentity::Director,
        IdGovUaIdentity::Passport,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IdGovUaIdentity::Person => "person",
            IdGovUaIdentity::Director => "director",
            IdGovUaIdentity::Passport => "passport",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.key() == s)
    }

    /// The Diia emulator's person this one is.
    pub fn diia(self) -> Option<TestIdentity> {
        match self {
            IdGovUaIdentity::Person => Some(TestIdentity::Person),
            IdGovUaIdentity::Director => Some(TestIdentity::Director),
            IdGovUaIdentity::Passport => None,
        }
    }

    /// Surname, given name, patronymic.
    pub fn full_name(self) -> &'static str {
        match self.diia() {
            Some(who) => who.full_name(),
            None => "Петренко Марія Іванівна",
        }
    }

    /// `drfocode`: the РНОКПП, or the passport's series and number.
    pub fn drfocode(self) -> &'static str {
        match self.diia() {
            Some(who) => who.rnokpp(),
            None => PASSPORT_NUMBER,
        }
    }

    pub fn edrpou(self) -> Option<&'static str> {
        self.diia().and_then(TestIdentity::edrpou)
    }

    pub fn organization(self) -> Option<&'static str> {
        self.diia().and_then(TestIdentity::organization)
    }

    pub fn title(self) -> Option<&'static str> {
        self.diia().and_then(TestIdentity::title)
    }

    /// One line for the login page under the name.
    pub fn description(self) -> String {
        match self.diia() {
            Some(who) => who.description(),
            None => format!(
                "Фізична особа без РНОКПП · паспорт {PASSPORT_NUMBER} (відмова від РНОКПП за релігійними переконаннями)"
            ),
        }
    }

    fn contacts(self) -> Contacts {
        match self {
            IdGovUaIdentity::Person => Contacts {
                locality: "Київ",
                state: "м. Київ",
                address: "м. Київ, вул. Тестова, 1, кв. 1",
                email: "person@example.com",
                phone: "+380000000001",
                unzr: Some("19900101-00019"),
            },
            IdGovUaIdentity::Director => Contacts {
                locality: "Львів",
                state: "Львівська",
                address: "м. Львів, вул. Тестова, 2",
                email: "director@example.com",
                phone: "+380000000002",
                unzr: Some("19850615-00027"),
            },
            IdGovUaIdentity::Passport => Contacts {
                locality: "Житомир",
                state: "Житомирська",
                address: "м. Житомир, вул. Тестова, 3",
                email: NOT_AVAILABLE,
                phone: "+380000000003",
                unzr: None,
            },
        }
    }

    /// The certificate's subject as IIT's certificate info would spell it (the format is this
    /// emulator's guess: no public sample value exists). The identifier follows ETSI EN 319
    /// 412-1: `TINUA-` for an РНОКПП, `PASUA-` for a passport, `NTRUA-` for an ЄДРПОУ.
    fn subject(self) -> String {
        let (surname, given) = split_name(self.full_name());
        let given = match given {
            (g, "") => g.to_owned(),
            (g, m) => format!("{g} {m}"),
        };
        let id = match self.diia() {
            Some(who) => format!("TINUA-{}", who.rnokpp()),
            None => format!("PASUA-{PASSPORT_NUMBER}"),
        };
        let mut dn = String::new();
        if let (Some(o), Some(t)) = (self.organization(), self.title()) {
            dn += &format!("O={o};T={t};");
        }
        dn += &format!(
            "CN={};SN={surname};G={given};serialNumber={id};C=UA;L={}",
            self.full_name(),
            self.contacts().locality
        );
        if let Some(edrpou) = self.edrpou() {
            dn += &format!(";OI=NTRUA-{edrpou}");
        }
        dn
    }
}

/// `(surname, (given name, patronymic))`, for "Прізвище Імʼя По-батькові".
fn split_name(full_name: &str) -> (&str, (&str, &str)) {
    let mut words = full_name.splitn(3, ' ');
    let surname = words.next().unwrap_or_default();
    let given = words.next().unwrap_or_default();
    let middle = words.next().unwrap_or_default();
    (surname, (given, middle))
}

/// A stable certificate serial per person and method: 20 bytes, upper-case hex.
fn serial(who: IdGovUaIdentity, method: IdGovUaMethod) -> String {
    let digest = Sha256::digest(format!(
        "kepgate id.gov.ua emulator certificate/{}/{}",
        method.key(),
        who.key()
    ));
    digest[..20].iter().map(|b| format!("{b:02X}")).collect()
}

/// Every user-info field a login can answer, in the order of the spec's example (as quoted in
/// IIT's samples), then `unzr`. `auth_type` is always sent and not in this list.
pub(crate) const FIELDS: [&str; 20] = [
    "issuer",
    "issuercn",
    "serial",
    "subject",
    "subjectcn",
    "locality",
    "state",
    "o",
    "ou",
    "title",
    "lastname",
    "givenname",
    "middlename",
    "email",
    "address",
    "phone",
    "dns",
    "edrpoucode",
    "drfocode",
    "unzr",
];

/// The value of one user-info field (`None` for a name that is not a field).
pub(crate) fn field(who: IdGovUaIdentity, method: IdGovUaMethod, name: &str) -> Option<String> {
    let na = || NOT_AVAILABLE.to_owned();
    let cert = method.issuer();
    let (surname, (given, middle)) = split_name(who.full_name());
    let or_na = |v: Option<&str>| v.filter(|v| !v.is_empty()).map_or_else(na, str::to_owned);
    let contacts = who.contacts();
    Some(match name {
        "issuer" => or_na(cert.map(|c| c.0)),
        "issuercn" => or_na(cert.map(|c| c.1)),
        "serial" => cert.map_or_else(na, |_| serial(who, method)),
        "subject" => cert.map_or_else(na, |_| who.subject()),
        "subjectcn" => who.full_name().to_owned(),
        "locality" => contacts.locality.to_owned(),
        "state" => contacts.state.to_owned(),
        "o" => or_na(who.organization()),
        "ou" | "dns" => na(),
        "title" => or_na(who.title()),
        "lastname" => or_na(Some(surname)),
        "givenname" => or_na(Some(given)),
        "middlename" => or_na(Some(middle)),
        "email" => contacts.email.to_owned(),
        "address" => contacts.address.to_owned(),
        "phone" => contacts.phone.to_owned(),
        "edrpoucode" => or_na(who.edrpou()),
        "drfocode" => who.drfocode().to_owned(),
        "unzr" => or_na(contacts.unzr),
        _ => return None,
    })
}

/// The plain user-info object: `auth_type`, and each requested field that exists (all of
/// them when `requested` is `None`). Unknown names are skipped, repeated ones answered once.
pub(crate) fn user_info(
    who: IdGovUaIdentity,
    method: IdGovUaMethod,
    requested: Option<&[&str]>,
) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert("auth_type".to_owned(), Value::from(method.key()));
    let names = requested.unwrap_or(&FIELDS);
    for name in names {
        if let Some(value) = field(who, method, name) {
            info.insert((*name).to_owned(), Value::from(value));
        }
    }
    info
}
