//! The site's URLs as a plain type: lessons link to them, the build checks
//! those links against it, and the web app builds its hrefs with it.
//!
//! Routes: `/`, `/learn`, `/learn/<slug>`, `/quiz/<slug>`, `/lab?text=…`, `/train?seed=…`.

use std::fmt::Write as _;

/// Query parameters the lab understands.
pub const LAB_PARAMS: &[&str] = &["text"];

/// A page of the site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`
    Home,
    /// `/learn`: the path through the lessons.
    Learn,
    /// `/learn/<slug>`
    Lesson(String),
    /// `/quiz/<slug>`
    Quiz(String),
    /// `/lab`, optionally with a sentence to pre-fill.
    Lab {
        /// `?text=`
        text: Option<String>,
    },
    /// `/train`, live distillation, optionally with the seed that repeats a run.
    Train {
        /// `?seed=`
        seed: Option<u64>,
    },
}

impl Route {
    /// Parse a site-relative URL (`/path?query#fragment`). The fragment is
    /// ignored. The error says what was expected.
    pub fn parse(url: &str) -> Result<Route, String> {
        let without_fragment = url.split('#').next().unwrap_or_default();
        let (path, query) = match without_fragment.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (without_fragment, None),
        };
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let route = match segments.as_slice() {
            [] if path.starts_with('/') => Route::Home,
            ["learn"] => Route::Learn,
            ["learn", slug] if !slug.is_empty() => Route::Lesson(slug.to_string()),
            ["quiz", slug] if !slug.is_empty() => Route::Quiz(slug.to_string()),
            ["lab"] => {
                let mut text = None;
                for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    match key {
                        "text" => {
                            let decoded = percent_decode(value).ok_or_else(|| {
                                format!("expected percent-encoded UTF-8 in ?text=, found `{value}`")
                            })?;
                            text = Some(decoded);
                        }
                        other => {
                            return Err(format!(
                                "unknown lab parameter `{other}`, expected one of: {}",
                                LAB_PARAMS.join(", ")
                            ))
                        }
                    }
                }
                return Ok(Route::Lab { text });
            }
            ["train"] => {
                let mut seed = None;
                for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("seed", v)) => {
                            seed = Some(v.parse().map_err(|_| {
                                format!("expected a whole number in ?seed=, found `{v}`")
                            })?)
                        }
                        _ => return Err(format!("unknown train parameter in `{pair}`, expected seed")),
                    }
                }
                return Ok(Route::Train { seed });
            }
            _ => {
                return Err(format!(
                    "expected a link to /, /learn, /learn/<slug>, /quiz/<slug>, /lab?text=… or /train?seed=…, found `{url}`"
                ))
            }
        };
        match query {
            Some(q) if !q.is_empty() => Err(format!(
                "expected no query string on `{path}`, found `?{q}`"
            )),
            _ => Ok(route),
        }
    }

    /// The lab with a sentence.
    pub fn lab(text: &str) -> Route {
        Route::Lab {
            text: Some(text.to_string()),
        }
    }

    /// The URL of this route.
    pub fn href(&self) -> String {
        match self {
            Route::Home => "/".into(),
            Route::Learn => "/learn".into(),
            Route::Lesson(slug) => format!("/learn/{slug}"),
            Route::Quiz(slug) => format!("/quiz/{slug}"),
            Route::Lab { text: None } => "/lab".into(),
            Route::Lab { text: Some(t) } => format!("/lab?text={}", percent_encode(t)),
            Route::Train { seed: None } => "/train".into(),
            Route::Train { seed: Some(s) } => format!("/train?seed={s}"),
        }
    }

    /// The lesson slug this route names, if any.
    pub fn slug(&self) -> Option<&str> {
        match self {
            Route::Lesson(s) | Route::Quiz(s) => Some(s),
            _ => None,
        }
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decode `%XX` escapes and `+` (as space, the form encoding browsers use);
/// `None` when an escape is malformed or the bytes are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_parses_back_from_its_href() {
        let routes = [
            Route::Home,
            Route::Learn,
            Route::Lesson("quantization".into()),
            Route::Quiz("distillation".into()),
            Route::Lab { text: None },
            Route::lab("I love learning about AI!"),
            Route::lab("ça + 100% <ok> & ✓"),
            Route::Train { seed: None },
            Route::Train { seed: Some(7) },
        ];
        for r in routes {
            assert_eq!(Route::parse(&r.href()), Ok(r.clone()), "{}", r.href());
        }
    }

    #[test]
    fn the_seed_sentence_encodes_as_in_the_lessons() {
        assert_eq!(
            Route::lab("I love learning about AI!").href(),
            "/lab?text=I%20love%20learning%20about%20AI%21"
        );
        assert_eq!(
            Route::parse("/lab?text=I%20love%20learning%20about%20AI!"),
            Ok(Route::lab("I love learning about AI!"))
        );
    }

    #[test]
    fn trailing_slash_and_fragment_are_tolerated() {
        assert_eq!(Route::parse("/learn/"), Ok(Route::Learn));
        assert_eq!(Route::parse("/quiz/a#q2"), Ok(Route::Quiz("a".into())));
    }

    #[test]
    fn bad_links_say_what_was_expected() {
        assert_eq!(
            Route::parse("/labs"),
            Err("expected a link to /, /learn, /learn/<slug>, /quiz/<slug>, /lab?text=… or /train?seed=…, found `/labs`".into())
        );
        assert_eq!(
            Route::parse("/lab?txt=hi"),
            Err("unknown lab parameter `txt`, expected one of: text".into())
        );
        assert_eq!(
            Route::parse("/lab?text=%FF"),
            Err("expected percent-encoded UTF-8 in ?text=, found `%FF`".into())
        );
        assert_eq!(
            Route::parse("/learn?x=1"),
            Err("expected no query string on `/learn`, found `?x=1`".into())
        );
        assert!(Route::parse("/learn/a/b").is_err());
        assert!(Route::parse("learn").is_err());
    }
}
