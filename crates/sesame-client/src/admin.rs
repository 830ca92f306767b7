//! The admin API: identities, health and version. Needs
//! [`ClientBuilder::admin_url`](crate::ClientBuilder::admin_url); without it these calls fail with
//! `Config`, sending nothing.

use crate::client::Client;
use crate::endpoint::{Endpoint, Request};
use crate::endpoints::{
    BatchPatchIdentities, CreateIdentity, DeleteIdentity, DeleteIdentityCredentials, GetIdentity,
    GetIdentityByExternalId, GetIdentityLock, GetVersion, IsAlive, IsReady, ListIdentities,
    PatchIdentity, UnlockIdentity, UpdateIdentity,
};
use crate::frontend::segment;
use http::Method;
use sesame_types::{CreateIdentityBody, JsonPatch, PatchIdentitiesBody, UpdateIdentityBody};
use uuid::Uuid;

impl Client {
    pub(crate) fn admin_request<E: Endpoint>(&self, method: Method, path: &str) -> Request<E> {
        match self.admin(path) {
            Ok(url) => Request::new(self, method, url),
            Err(message) => Request::new(self, method, String::new()).with(|c| c.invalid(message)),
        }
    }

    /// `POST /admin/identities`: creates an identity (201), optionally importing a password or a
    /// password hash.
    pub fn create_identity(&self, body: &CreateIdentityBody) -> Request<CreateIdentity> {
        self.admin_request(Method::POST, "/admin/identities")
            .with(|c| c.json(body))
    }

    /// `GET /admin/identities`: one page of identities, oldest first. Page with
    /// [`page_size`](Request::<ListIdentities>::page_size) and the `page_token` of the response's
    /// `Link: rel="next"` ([`Response::next_page_token`](crate::Response::next_page_token)).
    pub fn list_identities(&self) -> Request<ListIdentities> {
        self.admin_request(Method::GET, "/admin/identities")
    }

    /// `GET /admin/identities/{id}`.
    pub fn get_identity(&self, id: Uuid) -> Request<GetIdentity> {
        self.admin_request(Method::GET, &format!("/admin/identities/{id}"))
    }

    /// `PUT /admin/identities/{id}`: replaces traits, metadata and state (and credentials given).
    pub fn update_identity(&self, id: Uuid, body: &UpdateIdentityBody) -> Request<UpdateIdentity> {
        self.admin_request(Method::PUT, &format!("/admin/identities/{id}"))
            .with(|c| c.json(body))
    }

    /// `DELETE /admin/identities/{id}`: deletes the identity and ends its sessions (204).
    pub fn delete_identity(&self, id: Uuid) -> Request<DeleteIdentity> {
        self.admin_request(Method::DELETE, &format!("/admin/identities/{id}"))
    }

    /// `PATCH /admin/identities/{id}`: applies an RFC 6902 JSON Patch to the identity's admin JSON
    /// (`add`, `remove` and `replace`; not `/id`, `/credentials` as a whole, OIDC or SAML
    /// credentials) and saves it as [`update_identity`](Client::update_identity) would.
    pub fn patch_identity(&self, id: Uuid, patch: &[JsonPatch]) -> Request<PatchIdentity> {
        self.admin_request(Method::PATCH, &format!("/admin/identities/{id}"))
            .with(|c| c.json(patch))
    }

    /// `DELETE /admin/identities/{id}/credentials/{type}`: removes a credential type (`totp`,
    /// `lookup_secret`; `password` only while another first factor remains) (204).
    pub fn delete_identity_credentials(
        &self,
        id: Uuid,
        credential_type: &str,
    ) -> Request<DeleteIdentityCredentials> {
        self.admin_request(
            Method::DELETE,
            &format!(
                "/admin/identities/{id}/credentials/{}",
                segment(credential_type)
            ),
        )
    }

    /// `GET /admin/identities/{id}/lock` (Sesame's own): whether the identity is locked after too
    /// many failed sign-in attempts, with its failed-attempt counts.
    pub fn get_identity_lock(&self, id: Uuid) -> Request<GetIdentityLock> {
        self.admin_request(Method::GET, &format!("/admin/identities/{id}/lock"))
    }

    /// `DELETE /admin/identities/{id}/lock` (Sesame's own): lifts the identity's lock and forgets
    /// its failed attempts, waits included (204).
    pub fn unlock_identity(&self, id: Uuid) -> Request<UnlockIdentity> {
        self.admin_request(Method::DELETE, &format!("/admin/identities/{id}/lock"))
    }

    /// `GET /admin/identities/by/external/{external_id}`: the identity with this external id.
    pub fn get_identity_by_external_id(
        &self,
        external_id: &str,
    ) -> Request<GetIdentityByExternalId> {
        self.admin_request(
            Method::GET,
            &format!("/admin/identities/by/external/{}", segment(external_id)),
        )
    }

    /// `PATCH /admin/identities`: creates up to 1000 identities (200 with plaintext passwords) in
    /// one call; the answer has one result per item, in order, with the new id or the error.
    pub fn batch_patch_identities(
        &self,
        body: &PatchIdentitiesBody,
    ) -> Request<BatchPatchIdentities> {
        self.admin_request(Method::PATCH, "/admin/identities")
            .with(|c| c.json(body))
    }

    /// `GET /admin/health/alive`.
    pub fn admin_is_alive(&self) -> Request<IsAlive> {
        self.admin_request(Method::GET, "/admin/health/alive")
    }

    /// `GET /admin/health/ready`.
    pub fn admin_is_ready(&self) -> Request<IsReady> {
        self.admin_request(Method::GET, "/admin/health/ready")
    }

    /// `GET /admin/version`: the server's version.
    pub fn get_version(&self) -> Request<GetVersion> {
        self.admin_request(Method::GET, "/admin/version")
    }
}

/// The `include_credential` option: the configuration of the named credential types is included.
macro_rules! include_credential_option {
    ($($name:ty),*) => {
        $(
            impl Request<$name> {
                /// Includes these credential types' configuration (e.g. `password`, whose
                /// `hashed_password` then appears).
                pub fn include_credential(self, credential_type: &str) -> Self {
                    self.with(|c| c.query("include_credential", credential_type))
                }
            }
        )*
    };
}
include_credential_option!(GetIdentity, ListIdentities, GetIdentityByExternalId);

impl Request<ListIdentities> {
    /// Items per page with keyset pagination (1–500, 250 by default).
    pub fn page_size(self, page_size: u32) -> Self {
        self.with(|c| c.query("page_size", &page_size.to_string()))
    }

    /// The page to fetch: the `page_token` of the previous response's `next` link.
    pub fn page_token(self, token: &str) -> Self {
        self.with(|c| c.query("page_token", token))
    }

    /// Only the identity with this credentials identifier (e.g. an email address).
    pub fn credentials_identifier(self, identifier: &str) -> Self {
        self.with(|c| c.query("credentials_identifier", identifier))
    }

    /// Only these identities (at most 500; unknown ids are skipped). Repeatable; filters cannot
    /// be combined.
    pub fn ids(self, ids: &[Uuid]) -> Self {
        self.with(|c| {
            for id in ids {
                c.query("ids", &id.to_string());
            }
        })
    }

    /// Only the identities of this organization.
    pub fn organization_id(self, organization_id: Uuid) -> Self {
        self.with(|c| c.query("organization_id", &organization_id.to_string()))
    }

    /// Legacy offset pagination: the page number, from 0 (reaches the first 1000 identities).
    pub fn page(self, page: u32) -> Self {
        self.with(|c| c.query("page", &page.to_string()))
    }

    /// Legacy offset pagination: items per page.
    pub fn per_page(self, per_page: u32) -> Self {
        self.with(|c| c.query("per_page", &per_page.to_string()))
    }
}
