//! IATI Account's console as HTML (issue 18): each page a function from plain view data to
//! a whole document, in one layout with one stylesheet ([`STYLESHEET`]).
//!
//! Rendering only. Every interpolated value is escaped (maud's default; nothing here
//! opts out), so a name like `<script>` is shown as text. Nothing here decides a
//! permission: the caller says which actions are allowed ([`OrgRights`], …), from the same
//! check as `POST /api/v1/authz/check`, and a form shown by mistake would still be refused
//! by the API's handlers. Every state-changing form carries the session's CSRF token
//! ([`Frame::csrf`]) and posts to the console's own paths; no page needs JavaScript.

mod pages;
mod parts;

pub use pages::*;

/// What every page shows around its content.
pub struct Frame<'a> {
    pub title: &'a str,
    /// The signed-in user's name (`None`: signed out).
    pub user: Option<&'a str>,
    /// The session's synchronizer token, put in every form.
    pub csrf: &'a str,
    pub notice: Option<Notice<'a>>,
}

/// A message at the top of a page.
pub enum Notice<'a> {
    /// What the last action did.
    Done(&'a str),
    /// Why the last action was refused, with the fields at fault (name, message).
    Refused { message: &'a str, fields: &'a [(String, String)] },
}

/// The stylesheet every page links (`/account/console.css`).
pub const STYLESHEET: &str = include_str!("console.css");

/// How a form field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    Email,
    Url,
    LongText,
    /// One of fixed choices (value, label).
    Choice(&'static [(&'static str, &'static str)]),
}

/// One field of an edit form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub value: String,
    pub required: bool,
    /// `false`: shown, not editable (e.g. a short name after creation).
    pub editable: bool,
    pub hint: &'static str,
}

/// One of my organisations.
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub short_name: String,
    pub role: String,
    pub approved: bool,
}

/// What the signed-in user may do on an organisation (from the permission table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgRights {
    pub update: bool,
    pub delete: bool,
    pub manage_people: bool,
    pub create_dataset: bool,
    /// A superadmin, who may approve it.
    pub approve: bool,
}

pub struct DatasetRow {
    pub id: String,
    pub name: String,
    pub short_name: String,
    pub visibility: String,
    pub url: String,
}

pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
}

pub struct ToolRow {
    pub id: String,
    pub name: String,
}

/// An organisation's page.
pub struct OrgPage {
    pub id: String,
    pub name: String,
    pub approved: bool,
    pub my_role: String,
    pub fields: Vec<Field>,
    pub rights: OrgRights,
    pub datasets: Vec<DatasetRow>,
    /// Members (not pending).
    pub people: Vec<Person>,
    /// Join requests (`contributor_pending`).
    pub pending: Vec<Person>,
    pub tools: Vec<ToolRow>,
}

/// A dataset's form: new (`id` is `None`) or existing.
pub struct DatasetPage {
    pub org_id: String,
    pub org_name: String,
    pub id: Option<String>,
    pub fields: Vec<Field>,
    pub can_update: bool,
    pub can_delete: bool,
}

/// An organisation found by the join search.
pub struct FoundOrg {
    pub id: String,
    pub name: String,
    pub short_name: String,
    pub country: String,
    /// My standing there already (`""`: none).
    pub my_role: String,
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub status: String,
    pub session_bound: bool,
}

/// A key just made: its secret, shown on this page only.
pub struct NewKey<'a> {
    pub name: &'a str,
    pub secret: &'a str,
}
