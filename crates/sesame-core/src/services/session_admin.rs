//! Session management: a user's own sessions (`/sessions`) and the admin session API
//! (`/admin/sessions…`, `/admin/identities/{id}/sessions`), on [`SessionService`] (spec §4.6–§4.8).

use super::{SessionService, active_session};
use crate::aal::satisfies;
use crate::error::CoreError;
use crate::identity::{Identity, IdentityView};
use crate::ids::{IdentityId, SessionId, parse_uuid};
use crate::session::Session;
use crate::store::{SessionQuery, SessionSelector};
use crate::token::SessionToken;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use sesame_types::{ManageSessionsAction, ManageSessionsBody, ManageSessionsResponse};

/// Most ids `POST /admin/sessions` takes in one call.
pub const MAX_MANAGED_IDS: usize = 500;
/// Sessions one wildcard `POST /admin/sessions` call processes.
pub const WILDCARD_BATCH: u32 = 5000;

/// Which parts of a session an admin read expands (`?expand=identity&expand=devices`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expand {
    /// The identity (admin view).
    pub identity: bool,
    /// The devices.
    pub devices: bool,
}

impl Expand {
    /// Both parts.
    pub const ALL: Expand = Expand {
        identity: true,
        devices: true,
    };

    /// Adds one `expand` value (`identity` or `devices`, any case); `Err` gives it back.
    pub fn add(&mut self, value: &str) -> Result<(), String> {
        match value.to_ascii_lowercase().as_str() {
            "identity" => self.identity = true,
            "devices" => self.devices = true,
            _ => return Err(value.to_owned()),
        }
        Ok(())
    }
}

/// A position in the admin session listing: the creation time and id of a page's last session.
/// Its wire form is Kratos's page token, base64 (standard, unpadded) of
/// `id=<uuid>/created_at=<YYYY-MM-DD hh:mm:ss.ffffff>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    /// Creation time of the last session seen.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: SessionId,
}

const CURSOR_TIME: &str = "%Y-%m-%d %H:%M:%S%.f";

impl SessionCursor {
    /// Kratos's first-page token: the nil id at `2200-12-31 23:59:59`.
    pub fn first() -> Self {
        let created_at = Utc
            .with_ymd_and_hms(2200, 12, 31, 23, 59, 59)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Self {
            created_at,
            id: SessionId(uuid::Uuid::nil()),
        }
    }

    /// The cursor after `session`.
    pub fn after(session: &Session) -> Self {
        Self {
            created_at: session.created_at,
            id: session.id,
        }
    }

    /// The page token. Kratos writes the time to 5 fractional digits; Sesame keeps all 6 that are
    /// stored, so that no session created within the same 10 µs is skipped.
    pub fn encode(&self) -> String {
        let time = self.created_at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f");
        let time = time.to_string();
        let time = time.trim_end_matches('0').trim_end_matches('.');
        STANDARD_NO_PAD.encode(format!("id={}/created_at={time}", self.id))
    }

    /// Reads a page token (either key order; padded or not). `None`: it was not made by
    /// [`encode`](Self::encode).
    pub fn parse(token: &str) -> Option<Self> {
        // A `+` that reached the query unescaped was decoded as a space.
        let token = token.trim_end_matches('=').replace(' ', "+");
        let bytes = STANDARD_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (mut id, mut created_at) = (None, None);
        for part in text.split('/') {
            match part.split_once('=')? {
                ("id", v) if id.is_none() => id = Some(parse_uuid(v).ok()?),
                ("created_at", v) if created_at.is_none() => {
                    created_at = Some(
                        NaiveDateTime::parse_from_str(v, CURSOR_TIME)
                            .ok()?
                            .and_utc(),
                    );
                }
                _ => return None,
            }
        }
        Some(Self {
            created_at: created_at?,
            id: SessionId(id?),
        })
    }
}

/// How a session's `devices` are shown: Kratos answers `null` or `[]` when they were not asked
/// for, depending on the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Devices {
    /// The recorded devices.
    Shown,
    /// `[]`.
    Empty,
    /// `null`.
    Null,
}

/// A page of sessions with the total the filters match (page pagination).
#[derive(Debug)]
pub struct SessionPage {
    /// The sessions, wire view.
    pub items: Vec<sesame_types::Session>,
    /// How many sessions match in all.
    pub total: u64,
}

/// A page of the admin listing (keyset pagination).
#[derive(Debug)]
pub struct KeysetPage {
    /// The sessions, wire view.
    pub items: Vec<sesame_types::Session>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<SessionCursor>,
}

/// The parsed `POST /admin/sessions` body.
fn selector(body: &ManageSessionsBody) -> Result<SessionSelector, CoreError> {
    let given = |ids: &Option<Vec<String>>| ids.as_ref().filter(|v| !v.is_empty()).cloned();
    let ids = match (given(&body.identities), given(&body.sessions)) {
        (Some(ids), None) => Ok((true, ids)),
        (None, Some(ids)) => Ok((false, ids)),
        _ => Err(CoreError::bad_request(
            "Exactly one of `identities` or `sessions` must be given, with at least one id.",
        )),
    };
    let (identities, ids) = ids?;
    if ids.len() > MAX_MANAGED_IDS {
        return Err(CoreError::bad_request(format!(
            "At most {MAX_MANAGED_IDS} ids may be given in one call, got {}.",
            ids.len()
        )));
    }
    let field = if identities { "identities" } else { "sessions" };
    if ids.iter().any(|id| id == "*") {
        if !identities {
            return Err(CoreError::bad_request(
                "The wildcard \"*\" is not accepted in `sessions`: use `identities: [\"*\"]` to act on every session.",
            ));
        }
        if ids.len() > 1 {
            return Err(CoreError::bad_request(
                "The wildcard \"*\" must be the only entry of `identities`.",
            ));
        }
        return Ok(SessionSelector::All);
    }
    let parsed = ids
        .iter()
        .map(|id| {
            parse_uuid(id).map_err(|e| {
                CoreError::bad_request(format!("`{field}` contains an invalid id: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if identities {
        SessionSelector::Identities(parsed.into_iter().map(IdentityId).collect())
    } else {
        SessionSelector::Sessions(parsed.into_iter().map(SessionId).collect())
    })
}

impl SessionService {
    /// The request's active session, for the `/sessions` endpoints (their own 401).
    async fn caller(
        &self,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<(Session, Identity), CoreError> {
        active_session(&self.0, token, now)
            .await?
            .ok_or(CoreError::NoSessionCookie)
    }

    /// The wire view with the identity in `view` (or left out, then `active` ignores its state)
    /// and the devices as `devices` says.
    fn wire(
        &self,
        mut session: Session,
        identity: Option<Identity>,
        view: IdentityView,
        devices: Devices,
        now: DateTime<Utc>,
    ) -> sesame_types::Session {
        let base = &self.0.settings.public_base_url;
        let active = session.is_active(now, identity.as_ref());
        let shown = identity.map(|i| i.into_wire(base, view, None));
        let devices = match devices {
            Devices::Shown => Some(std::mem::take(&mut session.devices)),
            Devices::Empty => Some(Vec::new()),
            Devices::Null => None,
        };
        let mut wire = session.into_wire(now, None, base);
        wire.active = active;
        wire.identity = shown;
        wire.devices = devices;
        wire
    }

    /// `GET /sessions`: the caller's other active sessions, newest first, after the whoami AAL rule.
    pub async fn list_mine(
        &self,
        token: Option<&SessionToken>,
        offset: u64,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<SessionPage, CoreError> {
        let (current, identity) = self.caller(token, now).await?;
        let rule = self.0.settings.required_aal;
        if !satisfies(rule, current.aal, identity.available_aal) {
            return Err(CoreError::Aal2Required);
        }
        let query = SessionQuery {
            identity: Some(identity.id),
            except: Some(current.id),
            active: Some(true),
            now,
            after: None,
            offset,
            limit,
        };
        self.page(&query, IdentityView::Public).await
    }

    /// `DELETE /sessions`: revokes the caller's other sessions; Kratos's count (already revoked
    /// ones included).
    pub async fn revoke_others(
        &self,
        token: Option<&SessionToken>,
        now: DateTime<Utc>,
    ) -> Result<u64, CoreError> {
        let (current, _) = self.caller(token, now).await?;
        Ok(self
            .0
            .store
            .revoke_other_sessions(current.identity_id, current.id, now)
            .await?)
    }

    /// `DELETE /sessions/{id}`: revokes one of the caller's other sessions. The id is checked after
    /// the caller (as in Kratos); an id that is not the caller's is accepted and changes nothing.
    pub async fn revoke_mine(
        &self,
        token: Option<&SessionToken>,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        let (current, _) = self.caller(token, now).await?;
        let id = SessionId::parse(id).map_err(|e| CoreError::InvalidParameter(e.0))?;
        if id == current.id {
            return Err(CoreError::InvalidParameter(
                "cannot revoke current session".into(),
            ));
        }
        self.0
            .store
            .revoke_session(id, Some(current.identity_id), now)
            .await?;
        Ok(())
    }

    async fn page(
        &self,
        query: &SessionQuery,
        view: IdentityView,
    ) -> Result<SessionPage, CoreError> {
        let total = self.0.store.count_matching_sessions(query).await?;
        let rows = self.0.store.list_sessions(query).await?;
        let items = rows
            .into_iter()
            .map(|(s, i)| self.wire(s, Some(i), view, Devices::Shown, query.now))
            .collect();
        Ok(SessionPage { items, total })
    }

    /// `GET /admin/sessions`: a keyset page, newest first; `active` filters, `expand` chooses
    /// what is shown (not expanded: `identity` and `devices` are `null`).
    pub async fn admin_list(
        &self,
        active: Option<bool>,
        expand: Expand,
        after: Option<SessionCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<KeysetPage, CoreError> {
        let query = SessionQuery {
            identity: None,
            except: None,
            active,
            now,
            after: after
                .filter(|c| *c != SessionCursor::first())
                .map(|c| (c.created_at, c.id)),
            offset: 0,
            // One row more than asked tells whether a next page exists.
            limit: limit.saturating_add(1),
        };
        let mut rows = self.0.store.list_sessions(&query).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = rows
            .last()
            .filter(|_| more)
            .map(|(s, _)| SessionCursor::after(s));
        let items = rows
            .into_iter()
            .map(|(s, i)| {
                let devices = if expand.devices {
                    Devices::Shown
                } else {
                    Devices::Null
                };
                self.wire(
                    s,
                    expand.identity.then_some(i),
                    IdentityView::Admin,
                    devices,
                    now,
                )
            })
            .collect();
        Ok(KeysetPage { items, next })
    }

    /// `GET /admin/sessions/{id}` (not expanded: `identity` is `null`, `devices` is `[]`).
    pub async fn admin_get(
        &self,
        id: SessionId,
        expand: Expand,
        now: DateTime<Utc>,
    ) -> Result<sesame_types::Session, CoreError> {
        let (session, identity) = self.0.store.session(id).await?.ok_or(CoreError::NotFound)?;
        let identity = expand.identity.then_some(identity);
        let devices = if expand.devices {
            Devices::Shown
        } else {
            Devices::Empty
        };
        Ok(self.wire(session, identity, IdentityView::Admin, devices, now))
    }

    /// `DELETE /admin/sessions/{id}`: deactivates the session (its data stays).
    pub async fn admin_disable(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), CoreError> {
        if self.0.store.revoke_session(id, None, now).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound)
        }
    }

    /// `PATCH /admin/sessions/{id}/extend`: a new expiry of now + lifespan, unless the session
    /// still has more than `session.earliest_possible_extend` left (then nothing changes). Answers
    /// the session with its identity (public view) and `devices: []`.
    pub async fn admin_extend(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<sesame_types::Session, CoreError> {
        let (mut session, identity) = self.0.store.session(id).await?.ok_or(CoreError::NotFound)?;
        let settings = &self.0.settings;
        if session.expires_at - settings.earliest_possible_extend <= now {
            session.expires_at = now + settings.session_lifespan;
            session.updated_at = now;
            if !self
                .0
                .store
                .set_session_expiry(id, session.expires_at, now)
                .await?
            {
                return Err(CoreError::NotFound);
            }
        }
        Ok(self.wire(
            session,
            Some(identity),
            IdentityView::Public,
            Devices::Empty,
            now,
        ))
    }

    /// `GET /admin/identities/{id}/sessions`: a page of the identity's sessions, newest first, with
    /// identity (admin view) and devices. An unknown identity has none.
    pub async fn identity_sessions(
        &self,
        identity: IdentityId,
        active: Option<bool>,
        offset: u64,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<SessionPage, CoreError> {
        let query = SessionQuery {
            identity: Some(identity),
            except: None,
            active,
            now,
            after: None,
            offset,
            limit,
        };
        self.page(&query, IdentityView::Admin).await
    }

    /// `DELETE /admin/identities/{id}/sessions`: deletes them all; `NotFound` when there were none
    /// (Kratos's 404 quirk).
    pub async fn delete_identity_sessions(&self, identity: IdentityId) -> Result<(), CoreError> {
        let which = SessionSelector::Identities(vec![identity]);
        match self.0.store.delete_sessions(&which, None).await? {
            0 => Err(CoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// `POST /admin/sessions`: disables or deletes sessions by identity or by id; `identities: ["*"]`
    /// acts on every session, [`WILDCARD_BATCH`] per call (`more` says to call again).
    pub async fn manage(
        &self,
        body: &ManageSessionsBody,
        now: DateTime<Utc>,
    ) -> Result<ManageSessionsResponse, CoreError> {
        let which = selector(body)?;
        let limit = (which == SessionSelector::All).then_some(WILDCARD_BATCH);
        let store = &self.0.store;
        let processed = match body.action {
            ManageSessionsAction::Disable => store.disable_sessions(&which, limit, now).await?,
            ManageSessionsAction::Delete => store.delete_sessions(&which, limit).await?,
        };
        Ok(ManageSessionsResponse {
            processed: i64::try_from(processed).unwrap_or(i64::MAX),
            more: limit.is_some_and(|l| processed >= u64::from(l)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_crafted_ones_are_refused() {
        let first = SessionCursor::first();
        assert_eq!(
            String::from_utf8(STANDARD_NO_PAD.decode(first.encode()).unwrap()).unwrap(),
            "id=00000000-0000-0000-0000-000000000000/created_at=2200-12-31 23:59:59"
        );
        assert_eq!(SessionCursor::parse(&first.encode()), Some(first));
        let cursor = SessionCursor {
            created_at: Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
                + chrono::Duration::microseconds(123_450),
            id: SessionId::new(),
        };
        let decoded = String::from_utf8(STANDARD_NO_PAD.decode(cursor.encode()).unwrap()).unwrap();
        assert!(
            decoded.ends_with("/created_at=2024-05-01 10:00:00.12345"),
            "{decoded}"
        );
        assert_eq!(SessionCursor::parse(&cursor.encode()), Some(cursor));
        let swapped = STANDARD_NO_PAD.encode(format!(
            "created_at=2024-05-01 10:00:00.12345/id={}",
            cursor.id
        ));
        assert_eq!(SessionCursor::parse(&swapped), Some(cursor));
        for crafted in [
            "",
            "x",
            "aWQ9eA",
            &STANDARD_NO_PAD.encode("id=1/created_at=now"),
        ] {
            assert_eq!(SessionCursor::parse(crafted), None, "{crafted}");
        }
    }

    #[test]
    fn expand_values_are_case_insensitive() {
        let mut e = Expand::default();
        e.add("Identity").unwrap();
        e.add("DEVICES").unwrap();
        assert_eq!(e, Expand::ALL);
        assert_eq!(e.add("credentials"), Err("credentials".into()));
    }

    #[test]
    fn manage_bodies_need_exactly_one_valid_list() {
        let id = uuid::Uuid::new_v4();
        let body =
            |identities: Option<Vec<&str>>, sessions: Option<Vec<&str>>| ManageSessionsBody {
                action: ManageSessionsAction::Disable,
                identities: identities.map(|v| v.into_iter().map(str::to_owned).collect()),
                sessions: sessions.map(|v| v.into_iter().map(str::to_owned).collect()),
            };
        let id_s = id.to_string();
        assert_eq!(
            selector(&body(Some(vec![&id_s]), None)).unwrap(),
            SessionSelector::Identities(vec![IdentityId(id)])
        );
        assert_eq!(
            selector(&body(None, Some(vec![&id_s]))).unwrap(),
            SessionSelector::Sessions(vec![SessionId(id)])
        );
        assert_eq!(
            selector(&body(Some(vec!["*"]), None)).unwrap(),
            SessionSelector::All
        );
        let many: Vec<String> = (0..=MAX_MANAGED_IDS)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        for bad in [
            body(None, None),
            body(Some(vec![]), None),
            body(Some(vec![&id_s]), Some(vec![&id_s])),
            body(Some(vec!["not-a-uuid"]), None),
            body(Some(vec!["*", &id_s]), None),
            body(None, Some(vec!["*"])),
            body(Some(many.iter().map(String::as_str).collect()), None),
        ] {
            assert!(
                matches!(selector(&bad), Err(CoreError::BadRequest { .. })),
                "{bad:?}"
            );
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_page_token_parses_or_is_refused(token in any::<String>()) {
            if let Some(cursor) = SessionCursor::parse(&token) {
                prop_assert_eq!(SessionCursor::parse(&cursor.encode()), Some(cursor));
            }
        }

        #[test]
        fn tokens_of_any_bytes_are_refused_or_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
            if let Some(cursor) = SessionCursor::parse(&STANDARD_NO_PAD.encode(&bytes)) {
                prop_assert_eq!(SessionCursor::parse(&cursor.encode()), Some(cursor));
            }
        }

        #[test]
        fn cursors_round_trip(micros in 0i64..7_000_000_000_000_000, id in any::<[u8; 16]>()) {
            let cursor = SessionCursor {
                created_at: DateTime::from_timestamp_micros(micros).unwrap(),
                id: SessionId(uuid::Uuid::from_bytes(id)),
            };
            prop_assert_eq!(SessionCursor::parse(&cursor.encode()), Some(cursor));
            let padded = format!("{}==", cursor.encode());
            prop_assert_eq!(SessionCursor::parse(&padded), Some(cursor));
        }
    }
}
