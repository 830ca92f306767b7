//! A hand-driven browser for the UI tests: a cookie jar, redirect-free navigation, form filling
//! and just enough HTML reading (the pages' own markup: double-quoted attributes) to assert on.

use sesame_testkit::TestApp;
use sesame_testkit::reqwest::{Method, Response, StatusCode, header};
use std::collections::BTreeMap;

/// A cookie jar and redirect-free navigation against one app.
pub(super) struct Browser<'a> {
    pub(super) app: &'a TestApp,
    pub(super) cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub(super) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
        }
    }

    pub(super) fn url(&self, to: &str) -> String {
        if to.starts_with("http") {
            to.to_owned()
        } else {
            format!("{}{to}", self.app.public_url)
        }
    }

    pub(super) fn request(
        &self,
        method: Method,
        to: &str,
    ) -> sesame_testkit::reqwest::RequestBuilder {
        let mut req = self.app.http.request(method, self.url(to));
        if !self.cookies.is_empty() {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, header.join("; "));
        }
        req
    }

    pub(super) fn keep_cookies(&mut self, res: &Response) {
        for set in res.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub(super) async fn get(&mut self, to: &str) -> Response {
        let res = self.request(Method::GET, to).send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    pub(super) async fn post_form(&mut self, to: &str, fields: &[(&str, &str)]) -> Response {
        let body = sesame_testkit::reqwest::Url::parse_with_params("http://x/", fields)
            .unwrap()
            .query()
            .unwrap_or("")
            .to_owned();
        let res = self
            .request(Method::POST, to)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    /// An HTML page: 200, the UI's headers, the body.
    pub(super) async fn page(&mut self, to: &str) -> String {
        let res = self.get(to).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{to}: {body}");
        assert_html_headers(&headers, &self.app.public_url);
        body
    }
}

pub(super) fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location on a {} answer", res.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

pub(super) fn assert_html_headers(
    headers: &sesame_testkit::reqwest::header::HeaderMap,
    public_url: &str,
) {
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert!(
        csp.contains(&format!("form-action 'self' {public_url}/")),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// Undoes the HTML escaping of attribute values and text.
pub(super) fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The attributes of every `<tag …>` in `html` (values unescaped; bare attributes map to "").
pub(super) fn tags(html: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{tag} ");
    html.match_indices(&open)
        .map(|(start, _)| {
            let rest = &html[start + open.len()..];
            let inner = &rest[..rest.find('>').unwrap()];
            let mut attrs = BTreeMap::new();
            let mut s = inner.trim();
            while !s.is_empty() {
                let name_end = s.find(['=', ' ']).unwrap_or(s.len());
                let name = s[..name_end].to_owned();
                if s[name_end..].starts_with("=\"") {
                    let value_rest = &s[name_end + 2..];
                    let end = value_rest.find('"').unwrap();
                    attrs.insert(name, unescape(&value_rest[..end]));
                    s = value_rest[end + 1..].trim_start();
                } else {
                    attrs.insert(name, String::new());
                    s = s[name_end..].trim_start();
                }
            }
            attrs
        })
        .collect()
}

pub(super) fn input<'h>(
    inputs: &'h [BTreeMap<String, String>],
    name: &str,
) -> &'h BTreeMap<String, String> {
    inputs
        .iter()
        .find(|i| i.get("name").map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no input {name} in {inputs:?}"))
}

/// The inner text of the element whose `id` is `id` (up to its first closing tag of that kind).
pub(super) fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no element #{id}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let name_end = html[tag_start + 1..].find([' ', '>']).unwrap() + tag_start + 1;
    let tag = &html[tag_start + 1..name_end];
    let content_start = html[at..].find('>').unwrap() + at + 1;
    let close = format!("</{tag}>");
    let content_end = html[content_start..].find(&close).unwrap() + content_start;
    unescape(&html[content_start..content_end])
}

/// `/self-service/<kind>/browser` → 303 to the built-in UI → the page; returns the flow id and
/// the HTML.
pub(super) async fn open_flow(browser: &mut Browser<'_>, kind: &str) -> (String, String) {
    let res = browser.get(&format!("/self-service/{kind}/browser")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    let prefix = format!("{}/ui/{kind}?flow=", browser.app.public_url);
    let id = to
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{to} is not under {prefix}"))
        .to_owned();
    let html = browser.page(&to).await;
    (id, html)
}

/// The form's fields as a browser would submit them, with the given values filled in.
pub(super) fn form_fields(
    html: &str,
    fill: &[(&str, &str)],
    button: (&str, &str),
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = tags(html, "input")
        .into_iter()
        .filter(|i| i.get("type").map(String::as_str) != Some("checkbox"))
        .map(|i| {
            let name = i["name"].clone();
            let value = fill
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_else(|| i.get("value").cloned().unwrap_or_default());
            (name, value)
        })
        .collect();
    fields.push((button.0.to_owned(), button.1.to_owned()));
    fields
}

pub(super) fn form_action(html: &str) -> String {
    let forms = tags(html, "form");
    assert_eq!(forms.len(), 1, "{html}");
    assert_eq!(forms[0]["method"], "post");
    forms[0]["action"].clone()
}

pub(super) async fn submit(
    browser: &mut Browser<'_>,
    html: &str,
    fields: &[(String, String)],
) -> Response {
    let action = form_action(html);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post_form(&action, &pairs).await
}

/// The `<form>…</form>` holding the button `name`=`value`, on pages with one form per method.
pub(super) fn form_with<'h>(html: &'h str, name: &str, value: &str) -> &'h str {
    let button = format!(r#"name="{name}" value="{value}""#);
    let at = html
        .find(&button)
        .unwrap_or_else(|| panic!("no button {name}={value} in {html}"));
    let start = html[..at]
        .rfind("<form ")
        .unwrap_or_else(|| panic!("the button {name}={value} is in no form: {html}"));
    let end = at + html[at..].find("</form>").unwrap() + "</form>".len();
    &html[start..end]
}

/// Presses the button `name`=`value`: submits its form with `fill` filled in.
pub(super) async fn press(
    browser: &mut Browser<'_>,
    html: &str,
    fill: &[(&str, &str)],
    button: (&str, &str),
) -> Response {
    let form = form_with(html, button.0, button.1);
    let fields = form_fields(form, fill, button);
    submit(browser, form, &fields).await
}

/// The text of the `<code>` elements in `html`, unescaped.
pub(super) fn codes(html: &str) -> Vec<String> {
    html.split("<code>")
        .skip(1)
        .filter_map(|s| s.split_once("</code>").map(|(code, _)| unescape(code)))
        .collect()
}
