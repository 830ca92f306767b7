//! Kratos's pagination on the wire (spec §4.9): page pagination (`page`/`per_page`, or an offset
//! `page_token` with `page_size`) answered with `X-Total-Count` and a `Link` header, and the `Link`
//! header of keyset pagination. Links are the request path with the parameters the endpoint knows
//! (Kratos echoes the whole query, so a long query made a header three times its size), keys
//! sorted as Go's `url.Values` writes them.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Items per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u32 = 250;
/// Most items per page.
pub const MAX_PER_PAGE: u32 = 1000;

/// A page of page pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 0.
    pub page: u64,
    /// Items per page (1–1000).
    pub per_page: u32,
}

impl PageRequest {
    /// Reads the query as Kratos's migration paginator does: `page_token`/`page_size` when either
    /// is present, else `page`/`per_page`; values that do not parse fall back to the defaults.
    pub fn parse(params: &[(String, String)]) -> Self {
        let value = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let size = |raw: Option<&str>| {
            raw.and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(i64::from(DEFAULT_PER_PAGE))
                .clamp(1, i64::from(MAX_PER_PAGE)) as u32
        };
        if value("page_token").is_some() || value("page_size").is_some() {
            let per_page = size(value("page_size"));
            let offset = value("page_token")
                .filter(|t| !t.is_empty())
                .map_or(0, decode_offset);
            return Self {
                page: offset / u64::from(per_page),
                per_page,
            };
        }
        let page = value("page")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0) as u64;
        Self {
            page,
            per_page: size(value("per_page")),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        self.page.saturating_mul(u64::from(self.per_page))
    }
}

/// The offset token: base64url (unpadded) of `{"offset":"<n>","v":2}`.
fn encode_offset(offset: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{{\"offset\":\"{offset}\",\"v\":2}}"))
}

/// The offset in a token; 0 for anything unreadable (Kratos ignores a bad token here).
fn decode_offset(token: &str) -> u64 {
    URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| match &v["offset"] {
            serde_json::Value::String(s) => s.parse::<u64>().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .unwrap_or(0)
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The parameters of a request that an endpoint knows besides paging (`active`, `expand` …),
/// which its links carry on.
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a> {
    params: &'a [(String, String)],
    names: &'a [&'a str],
}

impl<'a> Kept<'a> {
    /// The parameters of `params` named in `names`; every other parameter is dropped.
    pub fn new(params: &'a [(String, String)], names: &'a [&'a str]) -> Self {
        Self { params, names }
    }

    /// None at all (an endpoint whose only parameters are paging ones).
    pub fn none() -> Self {
        Self {
            params: &[],
            names: &[],
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.params
            .iter()
            .filter(|(k, _)| self.names.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `<path?query>; rel="…"`: the kept parameters with `set` replacing theirs, keys sorted.
fn link(path: &str, kept: Kept<'_>, set: &[(&str, String)], rel: &str) -> String {
    let mut values: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in kept.iter() {
        values.entry(k).or_default().push(v);
    }
    for (k, v) in set {
        values.insert(k, vec![v.as_str()]);
    }
    let query: Vec<String> = values
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter()
                .map(move |v| format!("{}={}", query_escape(k), query_escape(v)))
        })
        .collect();
    format!("<{path}?{}>; rel=\"{rel}\"", query.join("&"))
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// `X-Total-Count` and `Link` for page pagination, exactly as Kratos computes them (including its
/// links on the last page: `first`/`next`/`prev` when there is nothing at all, only `first` with
/// the whole total as its size when everything fits on one page).
pub fn page_headers(
    headers: &mut HeaderMap,
    path: &str,
    params: Kept<'_>,
    request: &PageRequest,
    total: u64,
) {
    // Saturating arithmetic throughout: the offset comes from the client, up to `i64::MAX`.
    let per_page = i64::from(request.per_page.max(1));
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let offset = i64::try_from(request.offset()).unwrap_or(i64::MAX);
    let last_offset = if total % per_page == 0 {
        total.saturating_sub(per_page)
    } else {
        (total / per_page) * per_page
    };
    let rel = |rel: &str, size: i64, offset: i64| {
        let set = [
            ("page", (offset / size).to_string()),
            ("page_size", size.to_string()),
            ("page_token", encode_offset(offset)),
            ("per_page", size.to_string()),
        ];
        link(path, params, &set, rel)
    };
    let page_of = |o: i64| (o / per_page) * per_page;
    let links = if offset >= last_offset {
        if total == 0 {
            vec![
                rel("first", per_page, 0),
                rel("next", per_page, page_of(offset).saturating_add(per_page)),
                rel("prev", per_page, page_of(offset).saturating_sub(per_page)),
            ]
        } else if total <= per_page {
            vec![rel("first", total, 0)]
        } else {
            vec![
                rel("first", per_page, 0),
                rel("prev", per_page, last_offset.saturating_sub(per_page)),
            ]
        }
    } else if offset < per_page {
        vec![
            rel("next", per_page, per_page),
            rel("last", per_page, last_offset),
        ]
    } else {
        vec![
            rel("first", per_page, 0),
            rel("next", per_page, page_of(offset).saturating_add(per_page)),
            rel("prev", per_page, page_of(offset).saturating_sub(per_page)),
            rel("last", per_page, last_offset),
        ]
    };
    insert(
        headers,
        header::HeaderName::from_static("x-total-count"),
        &total.to_string(),
    );
    insert(headers, header::LINK, &links.join(","));
}

/// `Link` for keyset pagination: `first` (the default token) always, `next` unless this is the
/// last page.
pub fn keyset_headers(
    headers: &mut HeaderMap,
    path: &str,
    params: Kept<'_>,
    page_size: u32,
    first: &str,
    next: Option<&str>,
) {
    let rel = |rel: &str, token: &str| {
        let set = [
            ("page_size", page_size.to_string()),
            ("page_token", token.to_owned()),
        ];
        link(path, params, &set, rel)
    };
    let mut links = vec![rel("first", first)];
    if let Some(next) = next {
        links.push(rel("next", next));
    }
    insert(headers, header::LINK, &links.join(","));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn links(request: PageRequest, total: u64) -> String {
        let mut headers = HeaderMap::new();
        page_headers(&mut headers, "/sessions", Kept::none(), &request, total);
        assert_eq!(headers["x-total-count"], total.to_string().as_str());
        headers[header::LINK].to_str().unwrap().to_owned()
    }

    #[test]
    fn page_requests_read_both_styles_leniently() {
        let p = |q: &[(&str, &str)]| PageRequest::parse(&params(q));
        assert_eq!(
            p(&[]),
            PageRequest {
                page: 0,
                per_page: 250
            }
        );
        assert_eq!(
            p(&[("page", "2"), ("per_page", "10")]),
            PageRequest {
                page: 2,
                per_page: 10
            }
        );
        assert_eq!(
            p(&[("page", "x"), ("per_page", "5000")]),
            PageRequest {
                page: 0,
                per_page: 1000
            }
        );
        assert_eq!(
            p(&[("page", "-3"), ("per_page", "0")]),
            PageRequest {
                page: 0,
                per_page: 1
            }
        );
        let token = encode_offset(20);
        assert_eq!(
            p(&[("page_token", &token), ("page_size", "10")]),
            PageRequest {
                page: 2,
                per_page: 10
            }
        );
        assert_eq!(
            p(&[("page_token", "garbage"), ("page", "4")]),
            PageRequest {
                page: 0,
                per_page: 250
            }
        );
        assert_eq!(p(&[("page_size", "7")]).offset(), 0);
    }

    #[test]
    fn the_spec_example_link_is_reproduced() {
        let all = links(
            PageRequest {
                page: 0,
                per_page: 250,
            },
            600,
        );
        assert_eq!(
            all,
            "</sessions?page=1&page_size=250&page_token=eyJvZmZzZXQiOiIyNTAiLCJ2IjoyfQ&per_page=250>; rel=\"next\",\
             </sessions?page=2&page_size=250&page_token=eyJvZmZzZXQiOiI1MDAiLCJ2IjoyfQ&per_page=250>; rel=\"last\""
        );
    }

    #[test]
    fn link_rels_follow_kratos_on_every_page() {
        let rels = |page, per_page, total| {
            links(PageRequest { page, per_page }, total)
                .split(',')
                .map(|l| {
                    l.rsplit("rel=")
                        .next()
                        .unwrap()
                        .trim_matches('"')
                        .to_owned()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(rels(0, 2, 0), ["first", "next", "prev"]);
        assert_eq!(rels(0, 2, 2), ["first"]);
        assert_eq!(rels(0, 2, 5), ["next", "last"]);
        assert_eq!(rels(1, 2, 5), ["first", "next", "prev", "last"]);
        assert_eq!(rels(2, 2, 5), ["first", "prev"]);
        assert!(
            links(
                PageRequest {
                    page: 0,
                    per_page: 250
                },
                3
            )
            .contains("page_size=3&")
        );
    }

    #[test]
    fn links_keep_the_other_parameters_sorted_and_escaped() {
        let mut headers = HeaderMap::new();
        let q = params(&[
            ("expand", "identity"),
            ("active", "true"),
            ("expand", "devices"),
            ("junk", "dropped"),
        ]);
        let kept = Kept::new(&q, &["active", "expand"]);
        keyset_headers(&mut headers, "/admin/sessions", kept, 2, "a+b/c", Some("n"));
        assert_eq!(
            headers[header::LINK],
            "</admin/sessions?active=true&expand=identity&expand=devices&page_size=2&page_token=a%2Bb%2Fc>; rel=\"first\",\
             </admin/sessions?active=true&expand=identity&expand=devices&page_size=2&page_token=n>; rel=\"next\""
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn params() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop_oneof![
            Just("page".to_owned()),
            Just("per_page".to_owned()),
            Just("page_size".to_owned()),
            Just("page_token".to_owned()),
            Just("active".to_owned()),
            ".{0,8}",
        ];
        let value = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| encode_offset(n as i64)),
            ".{0,200}",
        ];
        prop::collection::vec((name, value), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_query_gives_a_page_in_range(params in params()) {
            let page = PageRequest::parse(&params);
            prop_assert!((1..=MAX_PER_PAGE).contains(&page.per_page));
            let _ = page.offset();
        }

        #[test]
        fn any_page_token_reads_as_an_offset(token in any::<String>()) {
            let _ = decode_offset(&token);
        }

        #[test]
        fn offset_tokens_round_trip(offset in 0i64..i64::MAX) {
            prop_assert_eq!(decode_offset(&encode_offset(offset)), offset as u64);
        }

        #[test]
        fn links_carry_only_kept_parameters_and_stay_small(
            params in params(),
            page in prop_oneof![0u64..4, any::<u64>()],
            per_page in prop_oneof![1u32..4, 1u32..=MAX_PER_PAGE],
            total in prop_oneof![0u64..10, any::<u64>()],
        ) {
            let request = PageRequest { page, per_page };
            let mut headers = HeaderMap::new();
            page_headers(&mut headers, "/sessions", Kept::none(), &request, total);
            let link = headers[header::LINK].to_str().unwrap();
            prop_assert!(link.len() < 1024, "{}", link);
            let mut headers = HeaderMap::new();
            let kept = Kept::new(&params, &["active"]);
            keyset_headers(&mut headers, "/admin/sessions", kept, per_page, "f", Some("n"));
            let link = headers[header::LINK].to_str().unwrap();
            let active: usize = params.iter().filter(|(k, _)| k == "active").map(|(_, v)| 3 * v.len() + 8).sum();
            prop_assert!(link.len() <= 2 * (active + 120), "{}", link);
        }
    }
}
