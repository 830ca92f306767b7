//! Id newtypes. Parsing failures carry the message Kratos's UUID parser produces, because Kratos
//! puts that text into its 400 bodies.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A string that is not a UUID, with Kratos's parser message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadUuid(pub String);

/// Parses a UUID the way Kratos reports failures (`uuid: incorrect UUID length 7 in string "BADUUID"`).
pub fn parse_uuid(s: &str) -> Result<Uuid, BadUuid> {
    Uuid::parse_str(s).map_err(|_| {
        if matches!(s.len(), 32 | 36 | 38 | 41 | 45) {
            BadUuid(format!("uuid: incorrect UUID format in string {s:?}"))
        } else {
            BadUuid(format!(
                "uuid: incorrect UUID length {} in string {s:?}",
                s.len()
            ))
        }
    })
}

macro_rules! uuid_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random (v4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses the canonical form.
            pub fn parse(s: &str) -> Result<Self, BadUuid> {
                parse_uuid(s).map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

uuid_newtype!(
    /// An identity's id.
    IdentityId
);
uuid_newtype!(
    /// A session's id.
    SessionId
);
uuid_newtype!(
    /// A self-service flow's id.
    FlowId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_uuids_are_reported_like_kratos() {
        assert_eq!(
            parse_uuid("BADUUID").unwrap_err().0,
            "uuid: incorrect UUID length 7 in string \"BADUUID\""
        );
        assert!(parse_uuid("f0a3b1c2-0000-4000-8000-00000000000z").is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_path_id_parses_or_is_a_bounded_message(s in any::<String>()) {
            match parse_uuid(&s) {
                Ok(id) => prop_assert_eq!(parse_uuid(&id.to_string()), Ok(id)),
                Err(BadUuid(message)) => prop_assert!(message.starts_with("uuid: incorrect UUID")),
            }
        }

        #[test]
        fn ids_round_trip_through_their_text(bytes in any::<[u8; 16]>()) {
            let id = SessionId(Uuid::from_bytes(bytes));
            prop_assert_eq!(SessionId::parse(&id.to_string()), Ok(id));
        }
    }
}
