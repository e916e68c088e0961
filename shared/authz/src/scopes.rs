//! Coarse access: the scopes each endpoint needs (shared/authz/README.md §2), as one table.

/// Every endpoint of the Register Your Data API that needs a token, and the public ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The caller's own access check.
    AccessCheck,
    /// List the registered tools.
    ListTools,
    /// A user's roles in every organisation.
    UserRoles,
    /// A user's permissions on one organisation.
    UserOrgPermissions,
    /// Organisations one may ask to join.
    ListDiscoverableOrgs,
    /// The organisations the caller may see.
    ListOrgs,
    /// Read one organisation.
    ReadOrg,
    /// Register an organisation.
    CreateOrg,
    /// Change an organisation.
    UpdateOrg,
    /// Delete an organisation.
    DeleteOrg,
    /// An organisation's members.
    ListOrgUsers,
    /// Ask to join an organisation.
    JoinOrg,
    /// Give or change a member's role.
    SetUserRole,
    /// Remove a member.
    RemoveUserRole,
    /// The tools granted on an organisation.
    ListOrgTools,
    /// Grant a tool on an organisation.
    GrantOrgTool,
    /// Revoke a tool's grant.
    RevokeOrgTool,
    /// An organisation's datasets.
    ListOrgDatasets,
    /// Register a dataset.
    CreateDataset,
    /// Read one dataset.
    ReadDataset,
    /// Change a dataset.
    UpdateDataset,
    /// Delete a dataset.
    DeleteDataset,
    /// Our additions (superadmin only, checked by the handler against the superadmin flag).
    CreateTool,
    /// Change a tool.
    UpdateTool,
    /// Delete a tool.
    DeleteTool,
    /// Make a user one of a tool's admins.
    SetToolAdmin,
    /// Remove one of a tool's admins.
    RemoveToolAdmin,
    /// IATI's licence list (public).
    Licences,
    /// Authorisation as a service (shared/api/README.md).
    AuthzCheck,
    /// Revoking a user's or a client's tokens (superadmins).
    Revoke,
    /// Scoped tokens signed by this application (user tokens only).
    AuthzToken,
    /// The caller's own API keys.
    ApiKeys,
    /// A superadmin imports a legacy API key for a user.
    ImportApiKey,
    /// A gateway asking about an API key (superadmins and configured service clients).
    ValidateApiKey,
    /// Groups and their members, datasets and metadata (superadmins).
    Groups,
    /// The data pipeline's facts about datasets' files (superadmins and pipeline clients).
    SetPipelineFacts,
    /// The outbox's backlog, failures and last errors (superadmins).
    Outbox,
    /// Sending the outbox's due email through Azure Communication Services (superadmins and
    /// the scheduler's clients).
    DeliverOutbox,
    /// An organisation's webhooks (its admins, checked by the handler on the organisation).
    Webhooks,
}

/// Who may call an endpoint at all, beyond its scopes (checked before the handler runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Any caller whose token has the scopes.
    Anyone,
    /// Superadmins only; the phrase completes "Only a superadmin may …".
    Superadmins(&'static str),
    /// Superadmins, or machine tokens of a client listed in the named setting (a variable
    /// holding client ids); `what` completes "… may …".
    SuperadminsOrListedClients {
        /// The variable listing the clients.
        setting: &'static str,
        /// What they may do, for the refusal's message.
        what: &'static str,
    },
}

/// One row: the scopes an endpoint needs, whether machine tokens may call it at all, and
/// who may call it.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRule {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The scopes it needs, all of them (empty: a public endpoint).
    pub scopes: &'static [&'static str],
    /// Whether machine tokens are refused.
    pub user_tokens_only: bool,
    /// Who may call it beyond the scopes.
    pub callers: Callers,
}

const fn rule(endpoint: Endpoint, scopes: &'static [&'static str], user_tokens_only: bool) -> ScopeRule {
    ScopeRule { endpoint, scopes, user_tokens_only, callers: Callers::Anyone }
}

/// A row for superadmins only (user tokens: superadmin is a user's standing).
const fn superadmin(endpoint: Endpoint, scopes: &'static [&'static str], what: &'static str) -> ScopeRule {
    ScopeRule { endpoint, scopes, user_tokens_only: true, callers: Callers::Superadmins(what) }
}

const RYD: &[&str] = &["ryd"];
const ORG_READ: &[&str] = &["ryd", "ryd:reporting_org"];
const DATASET: &[&str] = &["ryd", "ryd:dataset"];

/// shared/authz/README.md §2, exactly (each operation's `security` in the reference YAML).
pub const SCOPE_TABLE: &[ScopeRule] = {
    use Endpoint::*;
    &[
        rule(AccessCheck, RYD, false),
        rule(ListTools, RYD, false),
        rule(UserRoles, RYD, true),
        rule(UserOrgPermissions, RYD, true),
        rule(ListDiscoverableOrgs, ORG_READ, false),
        rule(ListOrgs, ORG_READ, false),
        rule(ReadOrg, ORG_READ, false),
        rule(CreateOrg, &["ryd", "ryd:reporting_org", "ryd:reporting_org:create"], true),
        rule(UpdateOrg, &["ryd", "ryd:reporting_org", "ryd:reporting_org:update"], false),
        rule(DeleteOrg, &["ryd", "ryd:reporting_org:delete"], false),
        rule(ListOrgUsers, &["ryd", "ryd:reporting_org:user"], true),
        rule(JoinOrg, &["ryd", "ryd:reporting_org:user"], true),
        rule(SetUserRole, &["ryd", "ryd:reporting_org:user:update"], true),
        rule(RemoveUserRole, &["ryd", "ryd:reporting_org:user:update"], true),
        rule(ListOrgTools, &["ryd", "ryd:reporting_org:tool"], true),
        rule(GrantOrgTool, &["ryd", "ryd:reporting_org:tool:update"], true),
        rule(RevokeOrgTool, &["ryd", "ryd:reporting_org:tool:update"], true),
        rule(ListOrgDatasets, DATASET, false),
        rule(CreateDataset, DATASET, false),
        rule(ReadDataset, DATASET, false),
        rule(UpdateDataset, &["ryd", "ryd:dataset", "ryd:dataset:update"], false),
        rule(DeleteDataset, &["ryd", "ryd:dataset:delete"], false),
        superadmin(CreateTool, RYD, "register a tool"),
        superadmin(UpdateTool, RYD, "change a tool"),
        superadmin(DeleteTool, RYD, "remove a tool"),
        superadmin(SetToolAdmin, RYD, "set a tool's admins"),
        superadmin(RemoveToolAdmin, RYD, "set a tool's admins"),
        rule(Licences, &[], false),
        rule(AuthzCheck, RYD, false),
        superadmin(Revoke, RYD, "revoke credentials"),
        rule(AuthzToken, RYD, true),
        rule(ApiKeys, RYD, true),
        superadmin(ImportApiKey, RYD, "import an API key for a user"),
        superadmin(Outbox, RYD, "see the outbox"),
        ScopeRule {
            endpoint: ValidateApiKey,
            scopes: RYD,
            user_tokens_only: false,
            callers: Callers::SuperadminsOrListedClients {
                setting: "authz_service_clients",
                what: "validate API keys",
            },
        },
        superadmin(Groups, RYD, "manage groups"),
        ScopeRule {
            endpoint: SetPipelineFacts,
            scopes: &["ryd", "ryd:dataset:pipeline"],
            user_tokens_only: false,
            callers: Callers::SuperadminsOrListedClients {
                setting: "pipeline_clients",
                what: "report the pipeline's facts",
            },
        },
        rule(Webhooks, RYD, true),
        ScopeRule {
            endpoint: DeliverOutbox,
            scopes: RYD,
            user_tokens_only: false,
            callers: Callers::SuperadminsOrListedClients {
                setting: "outbox_clients",
                what: "deliver the outbox's email",
            },
        },
    ]
};

impl Endpoint {
    /// The endpoint's row of [`SCOPE_TABLE`].
    pub fn rule(self) -> &'static ScopeRule {
        SCOPE_TABLE.iter().find(|r| r.endpoint == self).expect("every endpoint has a row in SCOPE_TABLE (tested)")
    }

    /// Public endpoints need no token at all.
    pub fn is_public(self) -> bool {
        self.rule().scopes.is_empty()
    }
}

/// Every scope any endpoint needs, in table order (for development and test tokens).
pub fn every_scope() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for scope in SCOPE_TABLE.iter().flat_map(|r| r.scopes.iter().copied()) {
        if !all.contains(&scope) {
            all.push(scope);
        }
    }
    all
}

/// The outcome of the scope check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeVerdict {
    /// The token has every scope it needs.
    Allowed,
    /// The token lacks these scopes (all the endpoint needs, for `WWW-Authenticate`).
    MissingScope {
        /// The scopes the endpoint needs, space-separated.
        required: String,
        /// Those the token lacks.
        missing: Vec<&'static str>,
    },
    /// A machine token on a user-tokens-only endpoint.
    UserTokenRequired,
}

/// The scope check for one endpoint: every scope its row needs, and no machine token where it takes user tokens only.
pub fn check_scopes(endpoint: Endpoint, granted: &[String], is_machine: bool) -> ScopeVerdict {
    let rule = endpoint.rule();
    let missing: Vec<&'static str> = rule.scopes.iter().copied().filter(|s| !granted.iter().any(|g| g == s)).collect();
    if !missing.is_empty() {
        return ScopeVerdict::MissingScope { required: rule.scopes.join(" "), missing };
    }
    if rule.user_tokens_only && is_machine {
        return ScopeVerdict::UserTokenRequired;
    }
    ScopeVerdict::Allowed
}

/// Whether the caller may call the endpoint at all (its `callers`), given whether they are
/// a superadmin and (asked only when it matters) whether they are a listed service client.
/// `Err` is the refusal's message.
pub fn check_caller(endpoint: Endpoint, superadmin: bool, listed_in: impl FnOnce(&str) -> bool) -> Result<(), String> {
    match endpoint.rule().callers {
        Callers::Anyone => Ok(()),
        _ if superadmin => Ok(()),
        Callers::Superadmins(what) => Err(format!("Only a superadmin may {what}.")),
        Callers::SuperadminsOrListedClients { setting, what } => {
            if listed_in(setting) {
                Ok(())
            } else {
                Err(format!("Only a superadmin, or a client named in {setting}, may {what}."))
            }
        }
    }
}

/// Who may learn a user's roles and permissions: the user themselves, or a superadmin.
/// `what` completes "Only the user themselves or a superadmin may …".
pub fn check_about_user(asking_about_self: bool, superadmin: bool, what: &str) -> Result<(), String> {
    if asking_about_self || superadmin {
        Ok(())
    } else {
        Err(format!("Only the user themselves or a superadmin may {what}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Endpoint::*;

    const ALL: [Endpoint; 39] = [
        AccessCheck,
        ListTools,
        UserRoles,
        UserOrgPermissions,
        ListDiscoverableOrgs,
        ListOrgs,
        ReadOrg,
        CreateOrg,
        UpdateOrg,
        DeleteOrg,
        ListOrgUsers,
        JoinOrg,
        SetUserRole,
        RemoveUserRole,
        ListOrgTools,
        GrantOrgTool,
        RevokeOrgTool,
        ListOrgDatasets,
        CreateDataset,
        ReadDataset,
        UpdateDataset,
        DeleteDataset,
        CreateTool,
        UpdateTool,
        DeleteTool,
        SetToolAdmin,
        RemoveToolAdmin,
        Licences,
        AuthzCheck,
        Revoke,
        AuthzToken,
        ApiKeys,
        ImportApiKey,
        ValidateApiKey,
        Groups,
        SetPipelineFacts,
        Outbox,
        DeliverOutbox,
        Webhooks,
    ];

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn every_scope_of_the_reference_is_in_the_table() {
        let mut all = every_scope();
        all.sort();
        // The reference's twelve, and ours for the data pipeline.
        assert_eq!(all.len(), 13);
        assert!(all.contains(&"ryd:reporting_org:tool:update") && all.contains(&"ryd:dataset:delete"));
        assert!(all.contains(&"ryd:dataset:pipeline"));
    }

    #[test]
    fn every_endpoint_has_exactly_one_row() {
        for e in ALL {
            assert_eq!(SCOPE_TABLE.iter().filter(|r| r.endpoint == e).count(), 1, "{e:?}");
        }
        assert_eq!(SCOPE_TABLE.len(), ALL.len());
    }

    #[test]
    fn each_endpoint_refuses_every_single_missing_scope() {
        for e in ALL {
            let rule = e.rule();
            assert_eq!(check_scopes(e, &s(rule.scopes), false), ScopeVerdict::Allowed, "{e:?}");
            for (i, _) in rule.scopes.iter().enumerate() {
                let mut without: Vec<&str> = rule.scopes.to_vec();
                let dropped = without.remove(i);
                match check_scopes(e, &s(&without), false) {
                    ScopeVerdict::MissingScope { required, missing } => {
                        assert_eq!(missing, vec![dropped]);
                        assert_eq!(required, rule.scopes.join(" "));
                    }
                    other => panic!("{e:?} without {dropped}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn machine_tokens_are_refused_where_the_reference_offers_only_openid_connect() {
        let machine_refused: Vec<Endpoint> =
            ALL.into_iter().filter(|e| check_scopes(*e, &s(e.rule().scopes), true) != ScopeVerdict::Allowed).collect();
        assert_eq!(
            machine_refused,
            vec![
                UserRoles,
                UserOrgPermissions,
                CreateOrg,
                ListOrgUsers,
                JoinOrg,
                SetUserRole,
                RemoveUserRole,
                ListOrgTools,
                GrantOrgTool,
                RevokeOrgTool,
                CreateTool,
                UpdateTool,
                DeleteTool,
                SetToolAdmin,
                RemoveToolAdmin,
                Revoke,
                AuthzToken,
                ApiKeys,
                ImportApiKey,
                Groups,
                Outbox,
                Webhooks
            ]
        );
    }

    #[test]
    fn the_table_matches_authz_md_section_2() {
        let expect: &[(Endpoint, &str)] = &[
            (AccessCheck, "ryd"),
            (ListDiscoverableOrgs, "ryd ryd:reporting_org"),
            (CreateOrg, "ryd ryd:reporting_org ryd:reporting_org:create"),
            (UpdateOrg, "ryd ryd:reporting_org ryd:reporting_org:update"),
            (DeleteOrg, "ryd ryd:reporting_org:delete"),
            (ListOrgUsers, "ryd ryd:reporting_org:user"),
            (SetUserRole, "ryd ryd:reporting_org:user:update"),
            (ListOrgTools, "ryd ryd:reporting_org:tool"),
            (GrantOrgTool, "ryd ryd:reporting_org:tool:update"),
            (ListOrgDatasets, "ryd ryd:dataset"),
            (UpdateDataset, "ryd ryd:dataset ryd:dataset:update"),
            (DeleteDataset, "ryd ryd:dataset:delete"),
            (Licences, ""),
        ];
        for (e, scopes) in expect {
            assert_eq!(e.rule().scopes.join(" "), *scopes, "{e:?}");
        }
        assert!(Licences.is_public() && !AccessCheck.is_public());
    }

    #[test]
    fn only_the_user_or_a_superadmin_may_ask_about_a_user() {
        assert!(check_about_user(true, false, "x").is_ok());
        assert!(check_about_user(false, true, "x").is_ok());
        assert_eq!(check_about_user(false, false, "x"), Err("Only the user themselves or a superadmin may x.".into()));
    }
}
