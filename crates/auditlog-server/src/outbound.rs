//! The fence around calls to URLs that API clients (and, through the portal, their customers'
//! admins) give us: log-stream receivers. Such a URL is HTTPS unless the operator allows plain
//! HTTP; it never reaches loopback, private, link-local (cloud metadata), shared or otherwise
//! internal addresses unless the operator allow-lists their network; redirects are not
//! followed; time and response size are bounded.
//!
//! The address check runs on the addresses the connection is made to: names are resolved by
//! [`FencedResolver`], which hands the connector only permitted addresses, so a name that
//! resolves to a public address when checked and a private one when used (DNS rebinding)
//! cannot get through. Literal IP addresses in a URL never reach a resolver, so
//! [`OutboundPolicy::check_url`] checks them.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Bytes of a receiver's answer read at most (enough for its error message).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What the operator allows outbound calls to reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Connections without TLS (plain `http://` URLs, syslog over plain TCP) are allowed.
    pub allow_plaintext: bool,
    /// Networks reachable even though they are internal (e.g. a SIEM on the private network).
    pub allow_networks: Vec<IpNet>,
}

/// Why a URL or address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenceError {
    #[error("the URL is not valid: {0}")]
    Invalid(String),
    #[error("only https URLs are allowed (the operator has not allowed connections without TLS)")]
    NotHttps,
    #[error("{0} is an internal address (loopback, private, link-local or reserved); the operator has not allowed it")]
    Internal(IpAddr),
    #[error("{0} resolves to no address outbound calls may reach")]
    NoPermittedAddress(String),
    #[error("a connection without TLS is not allowed (the operator has not allowed it)")]
    PlaintextNotAllowed,
}

impl OutboundPolicy {
    /// Checks a URL's scheme and, when its host is a literal address, the address.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, FenceError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| FenceError::Invalid(e.to_string()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_plaintext => {}
            "http" => return Err(FenceError::NotHttps),
            other => return Err(FenceError::Invalid(format!("unsupported scheme {other}"))),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(FenceError::Invalid(
                "credentials in the URL are not allowed; use the destination's secret fields"
                    .into(),
            ));
        }
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(_)) => {}
            None => return Err(FenceError::Invalid("the URL has no host".into())),
        }
        Ok(parsed)
    }

    /// Whether an address may be reached.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), FenceError> {
        let ip = canonical(ip);
        if is_internal(ip) && !self.allow_networks.iter().any(|net| net.contains(&ip)) {
            return Err(FenceError::Internal(ip));
        }
        Ok(())
    }

    /// An HTTP client whose connections only reach permitted addresses, that follows no
    /// redirect, uses no proxy from the environment, and gives up after `timeout`.
    pub fn http_client(&self, timeout: Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(FencedResolver {
                policy: self.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("auditlog/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with these settings builds")
    }

    /// The permitted addresses of `host:port`, resolved now (for non-HTTP destinations that
    /// connect themselves, such as syslog).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, FenceError> {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            self.check_ip(ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let addresses = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FenceError::Invalid(format!("{host}: {e}")))?;
        let permitted: Vec<SocketAddr> = addresses
            .filter(|address| self.check_ip(address.ip()).is_ok())
            .collect();
        if permitted.is_empty() {
            return Err(FenceError::NoPermittedAddress(host.to_string()));
        }
        Ok(permitted)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Addresses that are not the public internet.
fn is_internal(ip: IpAddr) -> bool {
    const INTERNAL: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ];
    INTERNAL.iter().any(|net| {
        net.parse::<IpNet>()
            .expect("the internal networks parse")
            .contains(&ip)
    })
}

/// Resolves names with the system resolver and keeps only permitted addresses.
struct FencedResolver {
    policy: OutboundPolicy,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl FencedResolver {
    /// The permitted addresses of `name`, for either reqwest generation's resolver.
    fn permitted(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>>
           + Send
           + 'static {
        let (policy, name) = (self.policy.clone(), name.to_string());
        async move {
            policy
                .resolve(&name, 0)
                .await
                .map(Vec::into_iter)
                .map_err(|e| Box::new(e) as BoxError)
        }
    }
}

impl reqwest::dns::Resolve for FencedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addresses = self.permitted(name.as_str());
        Box::pin(async move { Ok(Box::new(addresses.await?) as reqwest::dns::Addrs) })
    }
}

impl reqwest013::dns::Resolve for FencedResolver {
    fn resolve(&self, name: reqwest013::dns::Name) -> reqwest013::dns::Resolving {
        let addresses = self.permitted(name.as_str());
        Box::pin(async move { Ok(Box::new(addresses.await?) as reqwest013::dns::Addrs) })
    }
}

/// object_store's HTTP connector behind the same fence (object_store is built on another
/// reqwest generation than ours, hence a second client type).
#[derive(Debug)]
pub struct FencedObjectStoreConnector {
    pub policy: OutboundPolicy,
    pub timeout: Duration,
}

impl object_store::client::HttpConnector for FencedObjectStoreConnector {
    fn connect(
        &self,
        _options: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        let client = reqwest013::Client::builder()
            .dns_resolver(FencedResolver {
                policy: self.policy.clone(),
            })
            .redirect(reqwest013::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            .build()
            .map_err(|error| object_store::Error::Generic {
                store: "S3",
                source: Box::new(error),
            })?;
        Ok(object_store::client::HttpClient::new(client))
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of a response body, as text.
pub async fn bounded_text(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allow_listed() {
        let strict = OutboundPolicy::default();
        for url in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://[::ffff:192.168.0.1]/",
            "https://[fd00:ec2::254]/",
            "https://100.64.0.1/",
        ] {
            assert!(
                matches!(strict.check_url(url), Err(FenceError::Internal(_))),
                "{url}"
            );
        }
        assert_eq!(
            strict.check_url("http://siem.example/"),
            Err(FenceError::NotHttps)
        );
        assert!(strict.check_url("https://203.0.113.9/intake").is_ok());
        assert!(strict.check_url("https://siem.example/intake").is_ok());
        assert!(matches!(
            strict.check_url("https://user:pw@siem.example/"),
            Err(FenceError::Invalid(_))
        ));
        assert!(matches!(
            strict.check_url("ftp://siem.example/"),
            Err(FenceError::Invalid(_))
        ));
        let lab = OutboundPolicy {
            allow_plaintext: true,
            allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(lab.check_url("http://127.0.0.1:9000/").is_ok());
        assert!(lab.check_url("http://10.0.0.1/").is_err());
    }

    #[tokio::test]
    async fn names_resolve_only_to_permitted_addresses() {
        let strict = OutboundPolicy::default();
        assert_eq!(
            strict.resolve("localhost", 80).await,
            Err(FenceError::NoPermittedAddress("localhost".into()))
        );
        let lab = OutboundPolicy {
            allow_plaintext: true,
            allow_networks: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        };
        let addresses = lab.resolve("localhost", 80).await.unwrap();
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn the_client_does_not_connect_to_a_name_that_resolves_inside() {
        let client = OutboundPolicy {
            allow_plaintext: true,
            allow_networks: vec![],
        }
        .http_client(Duration::from_secs(2));
        let error = client.get("http://localhost:9/").send().await.unwrap_err();
        assert!(
            format!("{error:?}").contains("NoPermittedAddress(\"localhost\")"),
            "{error:?}"
        );
    }
}
