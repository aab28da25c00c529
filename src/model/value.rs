//! Claim objects and qualifier values: an entity reference or a literal.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::date::Date;

/// The object of a claim or the value of a qualifier. In JSON each is tagged:
/// `{"entity":"russia"}`, `{"string":"..."}`, `{"int":3}`, `{"float":0.5}`,
/// `{"bool":true}`, `{"date":"2025-02"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// A reference to an entity by key.
    Entity(String),
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(Date),
}

impl Term {
    /// The entity key, when this is an entity reference.
    pub fn entity(&self) -> Option<&str> {
        match self {
            Term::Entity(k) => Some(k),
            _ => None,
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Term::Entity(_) => "entity",
            Term::String(_) => "string",
            Term::Int(_) => "integer",
            Term::Float(_) => "float",
            Term::Bool(_) => "boolean",
            Term::Date(_) => "date",
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Entity(k) => write!(f, "@{k}"),
            Term::String(s) => write!(f, "{s:?}"),
            Term::Int(i) => write!(f, "{i}"),
            Term::Float(x) => write!(f, "{x:?}"),
            Term::Bool(b) => write!(f, "{b}"),
            Term::Date(d) => write!(f, "{d}"),
        }
    }
}

/// Named extra values on an entity or a claim, kept in key order.
pub type Attrs = BTreeMap<String, Term>;

/// How the speaker stands behind a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    /// Said plainly.
    #[default]
    Asserts,
    /// Hedged: may, could, reportedly.
    Suggests,
    /// Said not to hold.
    Denies,
}

impl Stance {
    pub fn as_str(&self) -> &'static str {
        match self {
            Stance::Asserts => "asserts",
            Stance::Suggests => "suggests",
            Stance::Denies => "denies",
        }
    }

    /// The stance of a name, case-sensitive as written in data.
    pub fn parse(text: &str) -> Option<Stance> {
        match text {
            "asserts" => Some(Stance::Asserts),
            "suggests" => Some(Stance::Suggests),
            "denies" => Some(Stance::Denies),
            _ => None,
        }
    }

    /// A stable one-byte code for index postings.
    pub fn code(&self) -> u8 {
        match self {
            Stance::Asserts => 0,
            Stance::Suggests => 1,
            Stance::Denies => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Stance> {
        match code {
            0 => Some(Stance::Asserts),
            1 => Some(Stance::Suggests),
            2 => Some(Stance::Denies),
            _ => None,
        }
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
