//! Who is acting: one model for API tokens and (since the inbox) people with passwords.

use crate::TenantId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Clerk,
    FoiOfficer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Clerk, Role::FoiOfficer, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::FoiOfficer => "foi_officer",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::message::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::message::UnknownValue {
                kind: "role",
                value: s.to_owned(),
            })
    }
}

/// The acting party behind a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Token {
        id: String,
        name: String,
    },
    User {
        id: String,
        name: String,
    },
    /// loket itself (ingest from a channel, CLI run by the operator).
    System {
        name: String,
    },
}

impl Actor {
    /// Stable text for audit events and `author` columns: `token:<id>`, `user:<id>`, `system:<name>`.
    pub fn reference(&self) -> String {
        match self {
            Actor::Token { id, .. } => format!("token:{id}"),
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::System { name } => format!("system:{name}"),
        }
    }

    /// A person (as opposed to a token or loket itself): their reads are audited.
    pub fn is_person(&self) -> bool {
        matches!(self, Actor::User { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub tenant: TenantId,
    pub role: Role,
    pub actor: Actor,
}

impl Principal {
    pub fn system(tenant: TenantId, name: &str) -> Self {
        Self {
            tenant,
            role: Role::Admin,
            actor: Actor::System { name: name.into() },
        }
    }
}
