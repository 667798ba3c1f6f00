//! The server as the monitor sees it, with an API key or with an Admin Portal session. Both
//! reach the same handlers: the portal's JSON routes under `/portal/api/organizations/{org}/`
//! run the API's own (`src/portal/api/`), so the monitor checks one log either way.

use super::super::ClientError;
use auditlog_domain::timestamp::{parse_timestamp, to_micros};
use auditlog_tlog::cosignature::WitnessPolicy;
use auditlog_tlog::Hash;
use base64::prelude::{Engine, BASE64_STANDARD};
use reqwest::header::{HeaderValue, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

use crate::portal::session::COOKIE as PORTAL_COOKIE;

enum Auth {
    ApiKey(String),
    /// The `name=value` of the session cookie.
    Portal(String),
}

pub struct Remote {
    http: reqwest::Client,
    base: String,
    organization_id: String,
    auth: Auth,
}

/// One page of the tail: events, and where to go on from.
pub struct Page {
    pub events: Vec<Value>,
    pub last_sequence: i64,
}

/// An event the server lists as redacted by retention: what the log keeps of it.
pub struct Redaction {
    pub sequence: u64,
    /// µs since the epoch (the route answers in milliseconds); `None` when unreadable.
    pub occurred_at: Option<i64>,
    /// `None` when the answer's `leaf_hash` is not a hash.
    pub leaf: Option<Hash>,
}

/// One page of the redactions route.
pub struct RedactionPage {
    pub redactions: Vec<Redaction>,
    pub last_sequence: i64,
}

fn unreachable(error: impl std::fmt::Display) -> ClientError {
    ClientError::Unreachable(error.to_string())
}

impl Remote {
    fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            // A portal link answers 303 with the session cookie: it is read, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a default HTTP client builds")
    }

    pub fn with_api_key(base: &str, organization_id: &str, key: &str) -> Remote {
        Remote {
            http: Self::http(),
            base: base.trim_end_matches('/').to_string(),
            organization_id: organization_id.to_string(),
            auth: Auth::ApiKey(key.to_string()),
        }
    }

    /// Opens an Admin Portal launch link (`POST /portal/generate_link`, intent `audit_logs`)
    /// and keeps its session. The server is the link's own origin.
    pub async fn with_portal_link(
        link: &str,
        organization_id: &str,
    ) -> Result<Remote, ClientError> {
        let url = url::Url::parse(link)
            .map_err(|e| ClientError::Local(format!("--portal-link is not a URL: {e}")))?;
        let base = url.origin().ascii_serialization();
        let http = Self::http();
        let response = http.get(url).send().await.map_err(unreachable)?;
        let status = response.status();
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .find(|pair| pair.trim().starts_with(&format!("{PORTAL_COOKIE}=")))
            .map(|pair| pair.trim().to_string());
        match cookie {
            Some(cookie) if status.is_redirection() => Ok(Remote {
                http,
                base,
                organization_id: organization_id.to_string(),
                auth: Auth::Portal(cookie),
            }),
            _ => Err(ClientError::Refused(
                status.as_u16(),
                "the portal link opened no session (links work once and for a few minutes)".into(),
            )),
        }
    }

    fn request(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.base));
        match &self.auth {
            Auth::ApiKey(key) => request.bearer_auth(key),
            Auth::Portal(cookie) => request.header(
                COOKIE,
                HeaderValue::from_str(cookie).expect("a cookie from a header is a header"),
            ),
        }
    }

    /// A path about the organization's log.
    fn log_path(&self, rest: &str) -> String {
        let org = &self.organization_id;
        match self.auth {
            Auth::ApiKey(_) => format!("/audit_logs/log/{org}/{rest}"),
            Auth::Portal(_) => format!("/portal/api/organizations/{org}/log/{rest}"),
        }
    }

    /// The answer's body; `None` for 404; the server's message for any other failure.
    async fn fetch(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<bytes::Bytes>, ClientError> {
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(Some(body));
        }
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|value| value["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        Err(ClientError::Refused(status.as_u16(), message))
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Option<Value>, ClientError> {
        match self.fetch(request).await? {
            None => Ok(None),
            Some(body) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| ClientError::Unreachable(format!("not a JSON answer: {e}"))),
        }
    }

    fn not_found(what: &str) -> ClientError {
        ClientError::Refused(404, format!("{what}: not found"))
    }

    /// The deployment's verifier key (public; the same for API keys and portal sessions).
    pub async fn log_key(&self) -> Result<String, ClientError> {
        let body = self
            .fetch(
                self.http
                    .get(format!("{}/.well-known/auditlog/log-key", self.base)),
            )
            .await?
            .ok_or_else(|| Self::not_found("the log key"))?;
        Ok(String::from_utf8_lossy(&body).trim().to_string())
    }

    /// The published witness policy; `None` when the server publishes none. A server without
    /// the route answers 401 to a request without an API key (its unknown paths are behind the
    /// key), and that too is publishing none.
    pub async fn witness_policy(&self) -> Result<Option<WitnessPolicy>, ClientError> {
        let url = format!("{}/.well-known/auditlog/witnesses", self.base);
        let answer = match self.json(self.http.get(url)).await {
            Err(ClientError::Refused(401, _)) => None,
            other => other?,
        };
        match answer {
            None => Ok(None),
            Some(value) => serde_json::from_value(value).map(Some).map_err(|e| {
                ClientError::Unreachable(format!("the published witness policy: {e}"))
            }),
        }
    }

    /// The newest checkpoint's note; `None` while the log has none.
    pub async fn latest_checkpoint(&self) -> Result<Option<String>, ClientError> {
        let answer = self
            .json(self.request(&self.log_path("checkpoint")))
            .await?;
        answer
            .map(|value| {
                value["checkpoint"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        ClientError::Unreachable("a checkpoint answer without `checkpoint`".into())
                    })
            })
            .transpose()
    }

    /// The consistency proof from `first` leaves to `second`.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, ClientError> {
        let request = self
            .request(&self.log_path("consistency_proof"))
            .query(&[("first", first), ("second", second)]);
        let answer = self
            .json(request)
            .await?
            .ok_or_else(|| Self::not_found("the consistency proof"))?;
        answer["proof"]
            .as_array()
            .ok_or_else(|| ClientError::Unreachable("a proof answer without `proof`".into()))?
            .iter()
            .map(|node| {
                decode_hash(node.as_str().unwrap_or_default())
                    .ok_or_else(|| ClientError::Unreachable("a proof node is not a hash".into()))
            })
            .collect()
    }

    /// Events after `after` in sequence order (the read API's tail mode).
    pub async fn events_after(&self, after: i64) -> Result<Page, ClientError> {
        let org = self.organization_id.clone();
        let query = [
            ("after_sequence", after.to_string()),
            ("limit", "100".to_string()),
        ];
        let request = match self.auth {
            Auth::ApiKey(_) => self
                .request("/audit_logs/events")
                .query(&[("organization_id", org)])
                .query(&query),
            Auth::Portal(_) => self
                .request(&format!("/portal/api/organizations/{org}/events"))
                .query(&query),
        };
        let page = self
            .json(request)
            .await?
            .ok_or_else(|| Self::not_found("the organization's events"))?;
        Ok(Page {
            events: page["data"].as_array().cloned().unwrap_or_default(),
            last_sequence: page["list_metadata"]["last_sequence"]
                .as_i64()
                .unwrap_or(after),
        })
    }

    /// Events after `after` whose payload retention removed, in sequence order (the log's
    /// `redactions` route). A server without the route (404) lists none, so what it does not
    /// serve stays unexplained.
    pub async fn redactions_after(&self, after: i64) -> Result<RedactionPage, ClientError> {
        let request = self
            .request(&self.log_path("redactions"))
            .query(&[("after_sequence", after.to_string())])
            .query(&[("limit", "1000")]);
        let Some(page) = self.json(request).await? else {
            return Ok(RedactionPage {
                redactions: Vec::new(),
                last_sequence: after,
            });
        };
        let redactions = page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                Some(Redaction {
                    sequence: entry["sequence"].as_u64()?,
                    occurred_at: entry["occurred_at"]
                        .as_str()
                        .and_then(parse_timestamp)
                        .map(to_micros),
                    leaf: entry["leaf_hash"].as_str().and_then(decode_hash),
                })
            })
            .collect();
        Ok(RedactionPage {
            redactions,
            last_sequence: page["list_metadata"]["last_sequence"]
                .as_i64()
                .unwrap_or(after),
        })
    }

    /// The leaf hashes `256·index …` (`width` of them) from the log's level-0 tile.
    pub async fn leaf_tile(&self, index: u64, width: u64) -> Result<Vec<Hash>, ClientError> {
        let mut path = format!("tlog/tile/0/{}", tile_index_path(index));
        if width < 256 {
            path.push_str(&format!(".p/{width}"));
        }
        let body = self
            .fetch(self.request(&self.log_path(&path)))
            .await?
            .ok_or_else(|| Self::not_found(&format!("the tile {path}")))?;
        if body.len() as u64 != width * 32 {
            return Err(ClientError::Unreachable(format!(
                "the tile {path} holds {} bytes, not {}",
                body.len(),
                width * 32
            )));
        }
        Ok(body
            .chunks_exact(32)
            .map(|hash| hash.try_into().expect("32 bytes"))
            .collect())
    }

    /// Days of retention in force for the organization; `None` when this session cannot ask
    /// (the portal has no such route).
    pub async fn retention_days(&self) -> Result<Option<i64>, ClientError> {
        if matches!(self.auth, Auth::Portal(_)) {
            return Ok(None);
        }
        let path = format!(
            "/organizations/{}/audit_logs_retention",
            self.organization_id
        );
        Ok(self
            .json(self.request(&path))
            .await?
            .and_then(|value| value["retention_period_in_days"].as_i64()))
    }
}

pub fn decode_hash(text: &str) -> Option<Hash> {
    BASE64_STANDARD.decode(text).ok()?.try_into().ok()
}

/// C2SP tlog-tiles index encoding: groups of three digits, all but the last prefixed `x`
/// (`1234067` → `x001/x234/067`).
pub fn tile_index_path(index: u64) -> String {
    let digits = format!("{index:03}");
    let padded = format!("{:0>width$}", digits, width = digits.len().div_ceil(3) * 3);
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|group| std::str::from_utf8(group).expect("ASCII digits"))
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            if i < last {
                format!("x{group}")
            } else {
                group.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_indexes_are_encoded_as_c2sp_says() {
        assert_eq!(tile_index_path(0), "000");
        assert_eq!(tile_index_path(5), "005");
        assert_eq!(tile_index_path(999), "999");
        assert_eq!(tile_index_path(1234), "x001/234");
        assert_eq!(tile_index_path(1234067), "x001/x234/067");
        for index in [0, 7, 1000, 1234067] {
            let path = format!("{}.p/3", tile_index_path(index));
            match auditlog_tlog::tiles::parse_tile_path(&format!("0/{path}")) {
                Some(auditlog_tlog::tiles::TilePath::Hashes(tile)) => {
                    assert_eq!(tile.level_index(), index)
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }
}
