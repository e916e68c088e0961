//! Scopes for the tokens this application signs itself (shared/api/README.md, "Authorisation as a service"), in
//! the syntax of datopian's `ckanext-authz-service` so its clients port over:
//! `<type>[:<id>[:<subscope>][:<actions>]]`, types `org`, `ds`, `res`, `*` a wildcard,
//! several actions comma-separated.
//!
//! Which actions a caller holds comes from the permission table ([`crate::decide`]) through
//! [`ACTIONS`]: this module never decides on its own.

use crate::permissions::Authorisation;
use std::collections::BTreeSet;
use std::fmt;

/// The kinds of object a scope names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityType {
    /// `org`: an organisation.
    Org,
    /// `ds`: a dataset.
    Dataset,
    /// `res`: a dataset's resource (its file).
    Resource,
}

impl EntityType {
    /// The name as scopes spell it (`org`, `ds`, `res`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Dataset => "ds",
            Self::Resource => "res",
        }
    }
}

/// Each scope action and the authorisation of the permission table it needs. A resource is
/// part of its dataset: changing one is updating the dataset.
pub const ACTIONS: &[(EntityType, &str, Authorisation)] = {
    use Authorisation::*;
    use EntityType::*;
    &[
        (Org, "read", ReadOrg),
        (Org, "update", UpdateOrg),
        (Org, "patch", UpdateOrg),
        (Org, "delete", DeleteOrg),
        (Dataset, "read", ReadDataset),
        (Dataset, "list", ReadDataset),
        (Dataset, "create", CreateDataset),
        (Dataset, "update", UpdateDataset),
        (Dataset, "patch", UpdateDataset),
        (Dataset, "delete", DeleteDataset),
        (Resource, "read", ReadDataset),
        (Resource, "create", UpdateDataset),
        (Resource, "update", UpdateDataset),
        (Resource, "delete", UpdateDataset),
    ]
};

/// Subscopes each type knows (a dataset's `data` or `metadata`); anything else grants nothing.
const SUBSCOPES: &[(EntityType, &str)] = &[
    (EntityType::Dataset, "data"),
    (EntityType::Dataset, "metadata"),
    (EntityType::Resource, "data"),
    (EntityType::Resource, "metadata"),
];

/// One requested or granted scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The kind of object.
    pub entity: EntityType,
    /// `None` for `*` or absent.
    pub id: Option<String>,
    /// `data` or `metadata` (datasets and resources), `None` for all.
    pub subscope: Option<String>,
    /// `None` means every action.
    pub actions: Option<BTreeSet<String>>,
}

/// Why a scope string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Not `org`, `ds` or `res`.
    #[error("unknown entity type {0:?} in scope {1:?} (org, ds or res)")]
    UnknownType(String, String),
    /// Too many `:`-separated parts.
    #[error("scope {0:?} has more than 4 parts")]
    TooManyParts(String),
    /// Nothing at all.
    #[error("empty scope")]
    Empty,
}

impl Scope {
    /// Parses like authzzie: 2 parts `type:id`, 3 parts `type:id:actions`, 4 parts
    /// `type:id:subscope:actions`; `*` in any optional part means "any".
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ScopeError::Empty);
        }
        let parts: Vec<&str> = text.split(':').collect();
        let entity = match parts[0] {
            "org" => EntityType::Org,
            "ds" => EntityType::Dataset,
            "res" => EntityType::Resource,
            other => return Err(ScopeError::UnknownType(other.to_string(), text.to_string())),
        };
        let any = |p: &str| p.is_empty() || p == "*";
        let actions = |p: &str| {
            (!any(p)).then(|| p.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect())
        };
        let mut scope = Scope { entity, id: None, subscope: None, actions: None };
        if let Some(id) = parts.get(1).filter(|p| !any(p)) {
            scope.id = Some(id.to_string());
        }
        match parts.len() {
            1 | 2 => {}
            3 => scope.actions = actions(parts[2]),
            4 => {
                scope.subscope = (!any(parts[2])).then(|| parts[2].to_string());
                scope.actions = actions(parts[3]);
            }
            _ => return Err(ScopeError::TooManyParts(text.to_string())),
        }
        Ok(scope)
    }

    /// Every action this type knows.
    pub fn known_actions(entity: EntityType) -> BTreeSet<String> {
        ACTIONS.iter().filter(|(e, _, _)| *e == entity).map(|(_, a, _)| a.to_string()).collect()
    }

    /// What object the scope is about.
    pub fn target(&self) -> Target {
        let id = self.id.as_deref();
        let any = |p: &str| p.is_empty() || p == "*";
        match (self.entity, id) {
            (_, None) => Target::Everything,
            (EntityType::Org, Some(org)) => Target::Org(org.to_string()),
            (EntityType::Dataset, Some(path)) => match path.split_once('/') {
                None => Target::Dataset { org: None, dataset: path.to_string() },
                Some((org, _)) if any(org) => Target::Everything,
                Some((org, ds)) if any(ds) => Target::DatasetsOf(org.to_string()),
                Some((org, ds)) => Target::Dataset { org: Some(org.to_string()), dataset: ds.to_string() },
            },
            (EntityType::Resource, Some(path)) => {
                let parts: Vec<&str> = path.splitn(3, '/').collect();
                match parts.as_slice() {
                    [res] => Target::Resource { org: None, dataset: None, resource: res.to_string() },
                    [org, ..] if any(org) => Target::Everything,
                    [org, ds, ..] if any(ds) => Target::DatasetsOf(org.to_string()),
                    [org, ds, res] if !any(res) => Target::Resource {
                        org: Some(org.to_string()),
                        dataset: Some(ds.to_string()),
                        resource: res.to_string(),
                    },
                    [org, ds, ..] => Target::Dataset { org: Some(org.to_string()), dataset: ds.to_string() },
                    _ => Target::Unknown,
                }
            }
        }
    }
}

/// The object a scope is about, for the caller to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every object of the type (`org:*`, `ds:*`, `ds:*/x`): superadmins only.
    Everything,
    /// One organisation, by id or short name.
    Org(String),
    /// Every dataset (or resource) of one organisation: the caller's standing there.
    DatasetsOf(String),
    /// A dataset by name or id, optionally with the organisation it must belong to.
    Dataset {
        /// The organisation it must belong to, if the scope names one.
        org: Option<String>,
        /// The dataset's name or id.
        dataset: String,
    },
    /// A resource (a dataset's file) by id, optionally with its dataset and organisation.
    Resource {
        /// The organisation it must belong to, if the scope names one.
        org: Option<String>,
        /// The dataset it must belong to, if the scope names one.
        dataset: Option<String>,
        /// The resource's id.
        resource: String,
    },
    /// A scope that names no object this API knows: it grants nothing.
    Unknown,
}

impl fmt::Display for Scope {
    /// The canonical form, as authzzie writes it (`org:*:read`, `ds:a/b:metadata:read,update`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![self.entity.as_str().to_string()];
        let actions = self.actions.as_ref().map(|a| a.iter().cloned().collect::<Vec<_>>().join(","));
        match &self.id {
            Some(id) => parts.push(id.clone()),
            None if self.subscope.is_some() || actions.is_some() => parts.push("*".into()),
            None => {}
        }
        if let Some(sub) = &self.subscope {
            parts.push(sub.clone());
            if actions.is_none() {
                parts.push("*".into());
            }
        }
        if let Some(a) = actions {
            parts.push(a);
        }
        f.write_str(&parts.join(":"))
    }
}

/// The part of `requested` the caller holds, given which authorisations they hold on the
/// object (`held`, from the permission table); `None` when nothing is left. Unknown
/// actions and subscopes are never granted.
pub fn grant(requested: &Scope, held: impl Fn(Authorisation) -> bool) -> Option<Scope> {
    if let Some(sub) = &requested.subscope {
        if !SUBSCOPES.contains(&(requested.entity, sub.as_str())) {
            return None;
        }
    }
    let holds = |action: &str| ACTIONS.iter().any(|(e, a, auth)| *e == requested.entity && *a == action && held(*auth));
    let known = Scope::known_actions(requested.entity);
    let granted: BTreeSet<String> = match &requested.actions {
        Some(asked) => asked.iter().filter(|a| holds(a)).cloned().collect(),
        None => known.iter().filter(|a| holds(a)).cloned().collect(),
    };
    if granted.is_empty() {
        return None;
    }
    // "All actions" asked and all held stays "all" (the shorter, canonical form).
    let actions = if requested.actions.is_none() && granted == known { None } else { Some(granted) };
    Some(Scope { actions, ..requested.clone() })
}

/// Scopes as sent: a JSON list of strings or one space-separated string.
pub fn split_requested(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}
