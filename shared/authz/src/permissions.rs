//! The permission table of shared/authz/README.md §4, as data, and the one function that reads it.

use serde::{Deserialize, Serialize};

/// A fine-grained authorisation on an organisation (names as the reference spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Authorisation {
    /// `read-org`.
    ReadOrg,
    /// `update-org`.
    UpdateOrg,
    /// `delete-org`.
    DeleteOrg,
    /// `set-org-user-authz`: give, change or remove members' roles.
    SetOrgUserAuthz,
    /// `set-org-tool-authz`: grant or revoke tools.
    SetOrgToolAuthz,
    /// `read-dataset`.
    ReadDataset,
    /// `create-dataset`.
    CreateDataset,
    /// `update-dataset`.
    UpdateDataset,
    /// `update-dataset-visibility`: make a dataset public or private.
    UpdateDatasetVisibility,
    /// `delete-dataset`.
    DeleteDataset,
}

impl Authorisation {
    /// Every authorisation, in the reference's order.
    pub const ALL: [Authorisation; 10] = [
        Self::ReadOrg,
        Self::UpdateOrg,
        Self::DeleteOrg,
        Self::SetOrgUserAuthz,
        Self::SetOrgToolAuthz,
        Self::ReadDataset,
        Self::CreateDataset,
        Self::UpdateDataset,
        Self::UpdateDatasetVisibility,
        Self::DeleteDataset,
    ];

    /// The name as the reference spells it (`read-org`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOrg => "read-org",
            Self::UpdateOrg => "update-org",
            Self::DeleteOrg => "delete-org",
            Self::SetOrgUserAuthz => "set-org-user-authz",
            Self::SetOrgToolAuthz => "set-org-tool-authz",
            Self::ReadDataset => "read-dataset",
            Self::CreateDataset => "create-dataset",
            Self::UpdateDataset => "update-dataset",
            Self::UpdateDatasetVisibility => "update-dataset-visibility",
            Self::DeleteDataset => "delete-dataset",
        }
    }

    /// The authorisation with this name, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A user's role in one organisation (at most one each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Role {
    /// Manages the organisation and its people.
    Admin,
    /// Manages datasets.
    Editor,
    /// Registers datasets.
    Contributor,
    /// Asked to join; may do nothing yet.
    ContributorPending,
}

impl Role {
    /// Every role, in the table's column order.
    pub const ALL: [Role; 4] = [Self::Admin, Self::Editor, Self::Contributor, Self::ContributorPending];

    /// The name as stored and answered (`admin`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Contributor => "contributor",
            Self::ContributorPending => "contributor_pending",
        }
    }

    /// The role with this name, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Which table is in force (`role_table` variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleTable {
    /// The seed's table, plus `set-org-tool-authz` (the default).
    #[default]
    Documented,
    /// IATI's reference server since 0.3.6: contributors update datasets, editors change
    /// visibility.
    Reference,
}

/// Columns of the table, in order.
const COLUMNS: [&str; 6] = ["admin", "editor", "contributor", "contributor_pending", "provider admin", "superadmin"];
const PROVIDER_ADMIN: usize = 4;
const SUPERADMIN: usize = 5;

/// shared/authz/README.md §4, row by row: admin, editor, contributor, contributor_pending, provider
/// admin, superadmin.
const DOCUMENTED: [(Authorisation, [bool; 6]); 10] = {
    use Authorisation::*;
    const X: bool = true;
    const O: bool = false;
    [
        (ReadOrg, [X, X, X, O, X, X]),
        (UpdateOrg, [X, X, O, O, X, X]),
        (DeleteOrg, [X, O, O, O, O, X]),
        (SetOrgUserAuthz, [X, O, O, O, O, X]),
        (SetOrgToolAuthz, [X, X, O, O, O, X]),
        (ReadDataset, [X, X, X, O, X, X]),
        (CreateDataset, [X, X, X, O, X, X]),
        (UpdateDataset, [X, X, O, O, X, X]),
        (UpdateDatasetVisibility, [X, O, O, O, X, X]),
        (DeleteDataset, [X, X, O, O, X, X]),
    ]
};

/// Cells where IATI's reference server differs from the documented table.
const REFERENCE_EXTRA: [(Authorisation, usize); 2] = [
    (Authorisation::UpdateDataset, 2),           // contributor
    (Authorisation::UpdateDatasetVisibility, 1), // editor
];

/// What a machine token may never do, whatever it is granted (shared/authz/README.md §3).
const MACHINE_FORBIDDEN: [Authorisation; 3] =
    [Authorisation::DeleteOrg, Authorisation::SetOrgUserAuthz, Authorisation::SetOrgToolAuthz];

impl RoleTable {
    /// One cell of the table.
    pub fn cell(self, auth: Authorisation, column: usize) -> bool {
        let row = DOCUMENTED.iter().find(|(a, _)| *a == auth).map(|(_, cols)| cols[column]).unwrap_or(false);
        row || (self == RoleTable::Reference && REFERENCE_EXTRA.contains(&(auth, column)))
    }
}

fn role_column(role: Role) -> usize {
    match role {
        Role::Admin => 0,
        Role::Editor => 1,
        Role::Contributor => 2,
        Role::ContributorPending => 3,
    }
}

/// The caller's standing on one organisation, as the database and token say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrgStanding {
    /// A superadmin (user tokens only).
    pub superadmin: bool,
    /// The user's own role there (never for machine tokens).
    pub role: Option<Role>,
    /// A tool granted on this organisation whose `client_id` is the token's, and the
    /// caller is one of its admins (or is that tool's machine client).
    pub provider_admin: bool,
    /// A machine token (client credentials).
    pub is_machine: bool,
}

/// An authorisation decision and why (shown to callers in 403s and `authz/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether it is allowed.
    pub allowed: bool,
    /// Why, in words (which row and column of the table decided).
    pub reason: String,
}

impl Decision {
    fn allow(reason: String) -> Self {
        Self { allowed: true, reason }
    }
    fn deny(reason: String) -> Self {
        Self { allowed: false, reason }
    }
}

/// Does this standing hold `auth` under `table`?
pub fn decide(table: RoleTable, standing: &OrgStanding, auth: Authorisation) -> Decision {
    let name = auth.as_str();
    if standing.is_machine && MACHINE_FORBIDDEN.contains(&auth) {
        return Decision::deny(format!("machine tokens can never hold {name}"));
    }
    if standing.superadmin && table.cell(auth, SUPERADMIN) {
        return Decision::allow(format!("superadmin holds {name}"));
    }
    if let Some(role) = standing.role {
        if table.cell(auth, role_column(role)) {
            return Decision::allow(format!("role {} holds {name}", role.as_str()));
        }
    }
    if standing.provider_admin && table.cell(auth, PROVIDER_ADMIN) {
        return Decision::allow(format!("provider admin through a granted tool holds {name}"));
    }
    let held: Vec<&str> = standing
        .role
        .map(|r| r.as_str())
        .into_iter()
        .chain(standing.provider_admin.then_some("provider admin"))
        .collect();
    if held.is_empty() {
        Decision::deny(format!("no role on this organisation grants {name}"))
    } else {
        Decision::deny(format!("{} does not hold {name}", held.join(" and ")))
    }
}

/// Every authorisation a standing holds, in the reference's order.
pub fn held(table: RoleTable, standing: &OrgStanding) -> Vec<Authorisation> {
    Authorisation::ALL.into_iter().filter(|a| decide(table, standing, *a).allowed).collect()
}

/// The column names, for documentation and test output.
pub fn column_names() -> [&'static str; 6] {
    COLUMNS
}

#[cfg(test)]
mod tests {
    use super::*;
    use Authorisation::*;

    /// The table of shared/authz/README.md §4 written out again as text, so a change to the data above
    /// must be made twice on purpose.
    const SPEC: &str = "
        read-org                  x x x . x x
        update-org                x x . . x x
        delete-org                x . . . . x
        set-org-user-authz        x . . . . x
        set-org-tool-authz        x x . . . x
        read-dataset              x x x . x x
        create-dataset            x x x . x x
        update-dataset            x x . . x x
        update-dataset-visibility x . . . x x
        delete-dataset            x x . . x x";

    fn standing_for(column: usize, is_machine: bool) -> OrgStanding {
        OrgStanding {
            superadmin: column == SUPERADMIN,
            role: Role::ALL.get(column).copied().filter(|_| column < 4),
            provider_admin: column == PROVIDER_ADMIN,
            is_machine,
        }
    }

    #[test]
    fn every_cell_of_the_documented_table() {
        for line in SPEC.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split_whitespace();
            let auth = Authorisation::parse(parts.next().unwrap()).unwrap();
            for (column, cell) in parts.enumerate() {
                let expected = cell == "x";
                let d = decide(RoleTable::Documented, &standing_for(column, false), auth);
                assert_eq!(d.allowed, expected, "{} / {}: {}", auth.as_str(), COLUMNS[column], d.reason);
            }
        }
    }

    #[test]
    fn every_cell_of_the_reference_table() {
        for auth in Authorisation::ALL {
            for (column, name) in COLUMNS.iter().enumerate() {
                let documented = decide(RoleTable::Documented, &standing_for(column, false), auth).allowed;
                let reference = decide(RoleTable::Reference, &standing_for(column, false), auth).allowed;
                let extra = matches!((auth, column), (UpdateDataset, 2) | (UpdateDatasetVisibility, 1));
                assert_eq!(reference, documented || extra, "{} / {name}", auth.as_str());
            }
        }
    }

    #[test]
    fn machine_tokens_never_hold_user_tool_or_delete_authorisations() {
        let machine = OrgStanding { provider_admin: true, is_machine: true, ..Default::default() };
        for table in [RoleTable::Documented, RoleTable::Reference] {
            let got = held(table, &machine);
            assert_eq!(
                got,
                vec![
                    ReadOrg,
                    UpdateOrg,
                    ReadDataset,
                    CreateDataset,
                    UpdateDataset,
                    UpdateDatasetVisibility,
                    DeleteDataset
                ]
            );
            let d = decide(table, &machine, DeleteOrg);
            assert!(!d.allowed && d.reason.contains("machine"), "{}", d.reason);
        }
    }

    #[test]
    fn a_stranger_holds_nothing_and_reasons_name_what_is_missing() {
        let none = OrgStanding::default();
        assert!(held(RoleTable::Documented, &none).is_empty());
        let d = decide(RoleTable::Documented, &none, UpdateOrg);
        assert_eq!(d.reason, "no role on this organisation grants update-org");
        let contributor = OrgStanding { role: Some(Role::Contributor), ..Default::default() };
        let d = decide(RoleTable::Documented, &contributor, DeleteDataset);
        assert_eq!(d.reason, "contributor does not hold delete-dataset");
    }

    #[test]
    fn a_role_and_a_tool_grant_add_up() {
        let both = OrgStanding { role: Some(Role::Contributor), provider_admin: true, ..Default::default() };
        assert!(decide(RoleTable::Documented, &both, UpdateDatasetVisibility).allowed);
        assert!(decide(RoleTable::Documented, &both, ReadOrg).reason.contains("contributor"));
    }

    #[test]
    fn names_round_trip() {
        for a in Authorisation::ALL {
            assert_eq!(Authorisation::parse(a.as_str()), Some(a));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("superadmin"), None);
    }
}
