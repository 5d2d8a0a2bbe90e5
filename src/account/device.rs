//! How a session's browser and address are shown to the person: «Chrome 156, Windows» rather
//! than the raw User-Agent, «192.0.2.7» rather than `192.0.2.7/32`. Display only: nothing is
//! decided on these.

/// Browser and system named from a User-Agent; the raw string when nothing is recognised.
pub fn device(user_agent: &str) -> String {
    let browser = browser(user_agent);
    let system = system(user_agent);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b}, {s}"),
        (Some(b), None) => b,
        (None, Some(s)) => s.to_owned(),
        (None, None) => user_agent.chars().take(60).collect(),
    }
}

/// The major version after `token/` in `ua`.
fn version_after<'a>(ua: &'a str, token: &str) -> Option<&'a str> {
    let rest = &ua[ua.find(token)? + token.len()..];
    let major = rest.split(['.', ' ', ';', ')']).next()?;
    (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())).then_some(major)
}

fn browser(ua: &str) -> Option<String> {
    // Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari"; Safari alone says
    // its version as "Version/".
    let named = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ];
    named
        .iter()
        .find_map(|(token, name)| version_after(ua, token).map(|v| format!("{name} {v}")))
        .or_else(|| {
            let v = version_after(ua, "Version/").filter(|_| ua.contains("Safari/"))?;
            Some(format!("Safari {v}"))
        })
}

fn system(ua: &str) -> Option<&'static str> {
    let named = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    named
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

/// The address without the `/32` (`/128`) PostgreSQL's `inet` text adds for one host.
pub fn address(inet: &str) -> &str {
    inet.strip_suffix("/32")
        .or_else(|| inet.strip_suffix("/128"))
        .unwrap_or(inet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_people_use_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131, Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131, Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
                "Chrome 156, Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17, iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131, Android",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133, macOS",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
        ];
        for (ua, shown) in cases {
            assert_eq!(device(ua), shown, "{ua}");
        }
    }

    #[test]
    fn one_host_is_shown_without_its_prefix_length() {
        assert_eq!(address("192.0.2.7/32"), "192.0.2.7");
        assert_eq!(address("2001:db8::1/128"), "2001:db8::1");
        assert_eq!(address("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(address("127.0.0.1"), "127.0.0.1");
    }
}
