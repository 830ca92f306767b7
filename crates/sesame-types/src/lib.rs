//! Sesame's wire contract: the serde structs of Ory Kratos's HTTP API (sessions, identities, flows,
//! schemas, the error envelope), shared by the server, the SDK and the CLI.
//!
//! Field order, names and nullability follow Kratos exactly, because clients decode them. This crate
//! must not depend on tokio, sqlx, axum or any other Sesame crate, so that the SDK stays light.

pub mod error;
pub mod flow;
pub mod identity;
pub mod lock;
pub mod ops;
pub mod patch;
pub mod session;
pub mod submit;
pub mod time;

pub use error::{ErrorEnvelope, GenericError};
pub use flow::{
    ContinueWith, FlowType, LoginFlow, RegistrationFlow, SettingsFlow, SuccessfulNativeLogin,
    SuccessfulNativeRegistration, UiContainer, UiNode, UiNodeAttributes, UiNodeMeta, UiText,
};
pub use identity::{
    CreateIdentityBody, Identity, IdentityCredentials, IdentitySchemaContainer, IdentityState,
    RecoveryAddress, UpdateIdentityBody, VerifiableAddress,
};
pub use lock::{FailedAttempts, IdentityLock};
pub use ops::{HealthStatus, LogoutFlow, PerformNativeLogoutBody, Version};
pub use patch::{
    BatchPatchAction, BatchPatchIdentitiesResponse, IdentityPatch, IdentityPatchResponse,
    JsonPatch, JsonPatchOp, PatchIdentitiesBody,
};
pub use session::{
    Aal, AuthenticationMethod, DeleteMySessionsCount, Device, ManageSessionsAction,
    ManageSessionsBody, ManageSessionsResponse, Session,
};
pub use submit::{
    LookupSecretAction, UpdateLoginFlowBody, UpdateRegistrationFlowBody, UpdateSettingsFlowBody,
};
