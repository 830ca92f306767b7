//! Who the client is, for the device a session records: its IP (from the forwarding headers of
//! trusted proxies only, so that a client cannot choose its own), `User-Agent`, and Cloudflare's
//! location headers (spec §2.3).

use axum::http::{HeaderMap, header};
use ipnet::IpNet;
use sesame_core::services::ClientInfo;
use std::net::IpAddr;

/// `serve.public.trusted_proxies`: peers whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`) or single addresses (`192.0.2.7`). `Err` names the bad entry.
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not a CIDR or an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counts as its IPv4 address) is trusted.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// RFC 1918 and unique-local addresses; loopback is not private here, as in Kratos.
fn is_private(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client's IP: behind a trusted proxy, the first of `True-Client-IP`, `Cf-Connecting-IP`,
/// `X-Real-IP`, else the right-most public `X-Forwarded-For` entry (empty when every entry is
/// private, as in Kratos); otherwise, and from any other peer, the peer's own address.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<String> {
    let peer = peer?;
    if !trusted.contains(peer) {
        return Some(canonical(peer).to_string());
    }
    for name in ["true-client-ip", "cf-connecting-ip", "x-real-ip"] {
        if let Some(ip) = header(headers, name).and_then(|v| v.parse::<IpAddr>().ok()) {
            return Some(canonical(ip).to_string());
        }
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
        .collect();
    if forwarded.is_empty() {
        return Some(canonical(peer).to_string());
    }
    Some(
        forwarded
            .iter()
            .rev()
            .find(|ip| !is_private(**ip))
            .map(|ip| canonical(*ip).to_string())
            .unwrap_or_default(),
    )
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The device information of a request.
pub fn client_info(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> ClientInfo {
    let agents: Vec<&str> = headers
        .get_all(header::USER_AGENT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let user_agent = (!agents.is_empty()).then(|| truncate(agents.join(" "), 512));
    // Cloudflare's location headers are as spoofable as the IP ones: trusted proxies only.
    let location = match peer.filter(|p| trusted.contains(*p)) {
        Some(_) => [
            header(headers, "cf-ipcity"),
            header(headers, "cf-ipcountry"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
        None => String::new(),
    };
    ClientInfo {
        ip: client_ip(peer, headers, trusted),
        user_agent,
        location: Some(truncate(location, 512)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn loopback() -> TrustedProxies {
        TrustedProxies::parse(&["127.0.0.0/8".into(), "::1/128".into()]).unwrap()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_trusted_proxy_names_the_client_in_kratos_order() {
        let h = headers(&[
            ("x-real-ip", "198.51.100.3"),
            ("cf-connecting-ip", "198.51.100.2"),
            ("true-client-ip", "198.51.100.1"),
        ]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &loopback()).unwrap(),
            "198.51.100.1"
        );
        let h = headers(&[("x-real-ip", "198.51.100.3")]);
        assert_eq!(
            client_ip(ip("::1"), &h, &loopback()).unwrap(),
            "198.51.100.3"
        );
    }

    #[test]
    fn x_forwarded_for_gives_the_right_most_public_entry() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &loopback()).unwrap(),
            "198.51.100.7"
        );
        let h = headers(&[("x-forwarded-for", "10.0.0.1, 192.168.1.1, fd00::1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &loopback()).unwrap(), "");
        let h = headers(&[
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "127.0.0.1"),
        ]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &loopback()).unwrap(),
            "127.0.0.1"
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_ip_or_location() {
        let h = headers(&[
            ("true-client-ip", "198.51.100.1"),
            ("x-forwarded-for", "198.51.100.7"),
            ("cf-ipcity", "Paris"),
        ]);
        let info = client_info(ip("203.0.113.50"), &h, &loopback());
        assert_eq!(info.ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(info.location.as_deref(), Some(""));
        let nobody = TrustedProxies::default();
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &nobody).unwrap(),
            "127.0.0.1"
        );
    }

    #[test]
    fn location_and_user_agent_follow_kratos() {
        let h = headers(&[
            ("cf-ipcity", "Berlin"),
            ("cf-ipcountry", "DE"),
            ("user-agent", "a"),
            ("user-agent", "b"),
        ]);
        let info = client_info(ip("127.0.0.1"), &h, &loopback());
        assert_eq!(info.location.as_deref(), Some("Berlin, DE"));
        assert_eq!(info.user_agent.as_deref(), Some("a b"));
        let h = headers(&[("cf-ipcountry", "DE")]);
        assert_eq!(
            client_info(ip("127.0.0.1"), &h, &loopback())
                .location
                .as_deref(),
            Some("DE")
        );
    }

    #[test]
    fn mapped_addresses_and_bad_entries() {
        assert!(loopback().contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(
            TrustedProxies::parse(&["192.0.2.7".into()])
                .unwrap()
                .contains("192.0.2.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(ip("::ffff:203.0.113.5"), &HeaderMap::new(), &loopback()).unwrap(),
            "203.0.113.5"
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn entries() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
                any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
                Just("unknown".to_owned()),
                "[0-9a-f.:, ]{0,20}",
            ],
            0..8,
        )
        .prop_map(|e| e.join(", "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_trusted_proxies_entry_parses_or_is_named(entry in ".{0,30}") {
            if let Err(message) = TrustedProxies::parse(std::slice::from_ref(&entry)) {
                let named = format!("{:?}", entry.trim());
                prop_assert!(message.contains(&named));
            }
        }

        #[test]
        fn the_client_ip_is_the_peer_or_one_the_headers_name(
            forwarded in entries(),
            real in entries(),
            peer in any::<IpAddr>(),
            trusted in any::<bool>(),
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in [("x-forwarded-for", &forwarded), ("x-real-ip", &real)] {
                if let Ok(v) = axum::http::HeaderValue::from_str(value) {
                    headers.insert(name, v);
                }
            }
            let proxies = if trusted {
                TrustedProxies::parse(&["0.0.0.0/0".into(), "::/0".into()]).unwrap()
            } else {
                TrustedProxies::default()
            };
            let ip = client_ip(Some(peer), &headers, &proxies).unwrap();
            if !trusted {
                prop_assert_eq!(ip, canonical(peer).to_string());
            } else if !ip.is_empty() {
                let parsed: IpAddr = ip.parse().unwrap();
                let named = format!("{forwarded},{real}")
                    .split(',')
                    .filter_map(|e| e.trim().parse::<IpAddr>().ok())
                    .map(canonical)
                    .any(|named| named == parsed);
                prop_assert!(named || parsed == canonical(peer));
            }
            let info = client_info(Some(peer), &headers, &proxies);
            prop_assert!(info.user_agent.is_none());
            prop_assert!(info.location.is_some_and(|l| l.len() <= 512));
        }
    }
}
