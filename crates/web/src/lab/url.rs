//! The lab's view in its URL: `?text=…&schemes=f16,q4_0&model=default` (a Hub model
//! adds its id: `model=hub&id=owner/name`). Reading forgives (unknown scheme names are
//! dropped, a missing list means every scheme); writing always spells out all three,
//! so a copied link reproduces the view.

use crate::engine::Scheme;
use crate::lab::state::LAB_PATH;

/// Which model the lab shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// The distilled student bundled with the site.
    Default,
    /// Files the learner picked (they cannot travel in a link).
    Files,
    /// A Hugging Face Hub model, named by the `id=` parameter.
    Hub,
}

impl ModelChoice {
    /// The `model=` value.
    pub fn name(self) -> &'static str {
        match self {
            ModelChoice::Default => "default",
            ModelChoice::Files => "files",
            ModelChoice::Hub => "hub",
        }
    }

    /// Parses `model=`; anything unknown is the bundled model.
    pub fn parse(value: Option<&str>) -> ModelChoice {
        match value {
            Some("files") => ModelChoice::Files,
            Some("hub") => ModelChoice::Hub,
            _ => ModelChoice::Default,
        }
    }
}

/// Every scheme the picker offers (f32 is always the reference row, not a choice).
pub fn pickable() -> Vec<Scheme> {
    Scheme::ALL
        .iter()
        .copied()
        .filter(|s| *s != Scheme::F32)
        .collect()
}

/// The schemes named in `schemes=` (comma-separated), in table order; every scheme
/// when the parameter is absent, none when it is present but empty.
pub fn parse_schemes(value: Option<&str>) -> Vec<Scheme> {
    let Some(value) = value else {
        return pickable();
    };
    let named: Vec<Scheme> = value
        .split(',')
        .filter_map(|name| name.trim().parse().ok())
        .collect();
    pickable()
        .into_iter()
        .filter(|s| named.contains(s))
        .collect()
}

/// The link that reopens the lab with this sentence, these schemes and this model
/// (`hub_id` is written only for a Hub model).
pub fn href(text: &str, schemes: &[Scheme], model: ModelChoice, hub_id: &str) -> String {
    let names: Vec<&str> = schemes.iter().map(|s| s.name()).collect();
    let id = match model {
        ModelChoice::Hub => format!("&id={}", encode(hub_id)),
        _ => String::new(),
    };
    format!(
        "{LAB_PATH}?text={}&schemes={}&model={}{id}",
        encode(text),
        encode(&names.join(",")),
        model.name()
    )
}

/// The Hugging Face Hub the lab downloads from.
pub const HUB: &str = "https://huggingface.co";

/// The Hub base URL: [`HUB`], or the `?hub=` value when it is a path on this page's own
/// origin (`/fake-hub`, for tests). Anything else is ignored, so a link cannot send
/// the worker to another site.
pub fn hub_base(value: Option<&str>, origin: &str) -> String {
    match value {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains(['\\', '?', '#', ':']) =>
        {
            format!("{origin}{}", path.trim_end_matches('/'))
        }
        _ => HUB.to_string(),
    }
}

/// Percent-encodes all but RFC 3986's unreserved bytes.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_parse_forgivingly() {
        assert_eq!(parse_schemes(None).len(), Scheme::ALL.len() - 1);
        assert_eq!(parse_schemes(Some("")), Vec::<Scheme>::new());
        assert_eq!(
            parse_schemes(Some("q4_0,bogus,f16,f32")),
            vec![Scheme::F16, Scheme::Q4_0]
        );
    }

    #[test]
    fn href_spells_out_the_view() {
        assert_eq!(
            href(
                "a b&c",
                &[Scheme::F16, Scheme::Q4K],
                ModelChoice::Default,
                "x"
            ),
            "/lab?text=a%20b%26c&schemes=f16%2Cq4_k&model=default"
        );
        assert_eq!(
            href("hi", &[], ModelChoice::Hub, "owner/m"),
            "/lab?text=hi&schemes=&model=hub&id=owner%2Fm"
        );
        assert_eq!(ModelChoice::parse(Some("hub")), ModelChoice::Hub);
        assert_eq!(ModelChoice::parse(Some("files")), ModelChoice::Files);
        assert_eq!(ModelChoice::parse(Some("x")), ModelChoice::Default);
    }

    #[test]
    fn every_reserved_byte_is_encoded() {
        assert_eq!(encode("not bad"), "not%20bad");
        assert_eq!(encode("a&b=c#d+e"), "a%26b%3Dc%23d%2Be");
        assert_eq!(encode("café 👍"), "caf%C3%A9%20%F0%9F%91%8D");
        assert_eq!(encode("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn only_a_same_origin_path_overrides_the_hub() {
        let origin = "http://127.0.0.1:9000";
        assert_eq!(hub_base(None, origin), HUB);
        assert_eq!(
            hub_base(Some("/fake-hub/"), origin),
            "http://127.0.0.1:9000/fake-hub"
        );
        for foreign in [
            "https://evil.example",
            "//evil.example",
            "evil",
            "/\\evil",
            "/a:b",
        ] {
            assert_eq!(hub_base(Some(foreign), origin), HUB, "{foreign}");
        }
    }
}
