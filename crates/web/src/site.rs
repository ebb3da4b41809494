//! Where the site lives: at a host's root (`cargo xtask serve`, `/`) or below a path
//! (GitHub Pages, `/squeeze/`). Trunk writes the public URL into the page's
//! `<base href>`; the router, the links the app writes itself and the links in the
//! lessons' HTML all start from it. Routes and lesson links are written site-absolute
//! (`/lab`), as `content::Route` spells them; [`path`] puts the base in front.

use std::sync::OnceLock;

/// The base path without its trailing `/`: `""` at a host's root, `/squeeze` below a path.
pub fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        // Native builds (the crate's unit tests) have no document: the host's root.
        if !cfg!(target_arch = "wasm32") {
            return String::new();
        }
        let href = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.base_uri().ok().flatten());
        let pathname = href
            .and_then(|h| web_sys::Url::new(&h).ok())
            .map(|u| u.pathname())
            .unwrap_or_default();
        base_of(&pathname)
    })
}

/// The base path of a `<base href>` pathname: its folder, without the trailing `/`.
pub fn base_of(pathname: &str) -> String {
    match pathname.rfind('/') {
        Some(i) => pathname[..i].to_string(),
        None => String::new(),
    }
}

/// A site-absolute path (`/lab?text=hi`) as the browser must ask for it.
pub fn path(site_path: &str) -> String {
    with_base(base(), site_path)
}

/// [`path`] for a given base.
pub fn with_base(base: &str, site_path: &str) -> String {
    if site_path.starts_with('/') && !site_path.starts_with("//") {
        format!("{base}{site_path}")
    } else {
        site_path.to_string()
    }
}

/// `html` with every site-absolute link (`href="/…"`, not `href="//…"`) below `base`.
/// The lessons' HTML is our own build output, so its attributes are always quoted so.
pub fn rebase_links(html: &str, base: &str) -> String {
    rebase(html, base, "href=\"/")
}

/// [`rebase_links`] for HTML that sits inside a JSON string (quotes escaped: `href=\"/`).
pub fn rebase_links_in_json(json: &str, base: &str) -> String {
    rebase(json, base, "href=\\\"/")
}

fn rebase(text: &str, base: &str, marker: &str) -> String {
    if base.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let end = at + marker.len();
        // `marker` ends in `/`: insert the base before it unless it starts `//`.
        out.push_str(&rest[..end - 1]);
        if !rest[end..].starts_with('/') {
            out.push_str(base);
        }
        out.push('/');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_the_folder_of_the_base_href() {
        assert_eq!(base_of("/"), "");
        assert_eq!(base_of("/squeeze/"), "/squeeze");
        assert_eq!(base_of("/a/b/"), "/a/b");
        assert_eq!(base_of("/squeeze/index.html"), "/squeeze");
        assert_eq!(base_of(""), "");
    }

    #[test]
    fn paths_get_the_base() {
        assert_eq!(with_base("", "/lab"), "/lab");
        assert_eq!(
            with_base("/squeeze", "/lab?text=hi"),
            "/squeeze/lab?text=hi"
        );
        assert_eq!(with_base("/squeeze", "/"), "/squeeze/");
        assert_eq!(with_base("/squeeze", "https://x.org/a"), "https://x.org/a");
        assert_eq!(with_base("/squeeze", "//x.org/a"), "//x.org/a");
    }

    #[test]
    fn links_in_html_and_json_get_the_base() {
        let html = r#"<a href="/lab?text=x">lab</a> <a href="//cdn.example/a">cdn</a> <a href="https://e.org/">e</a> <a href="/learn/q">q</a>"#;
        assert_eq!(
            rebase_links(html, "/s"),
            r#"<a href="/s/lab?text=x">lab</a> <a href="//cdn.example/a">cdn</a> <a href="https://e.org/">e</a> <a href="/s/learn/q">q</a>"#
        );
        assert_eq!(rebase_links(html, ""), html);
        let json = r#"{"html":"<a href=\"/train?seed=7\">t</a>"}"#;
        assert_eq!(
            rebase_links_in_json(json, "/s"),
            r#"{"html":"<a href=\"/s/train?seed=7\">t</a>"}"#
        );
    }
}
