#![warn(missing_docs)]
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
    /// The page's title (also its `<h1>`).
    pub title: &'a str,
    /// The signed-in user's name (`None`: signed out).
    pub user: Option<&'a str>,
    /// The session's synchronizer token, put in every form.
    pub csrf: &'a str,
    /// A message at the top, if any.
    pub notice: Option<Notice<'a>>,
}

/// A message at the top of a page.
pub enum Notice<'a> {
    /// What the last action did.
    Done(&'a str),
    /// Why the last action was refused, with the fields at fault (name, message).
    Refused {
        /// The refusal's message.
        message: &'a str,
        /// The fields at fault (name, message).
        fields: &'a [(String, String)],
    },
}

/// The stylesheet every page links (`/account/console.css`).
pub const STYLESHEET: &str = include_str!("console.css");

/// How a form field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A line of text.
    Text,
    /// An email address.
    Email,
    /// A URL.
    Url,
    /// A paragraph (a text area).
    LongText,
    /// One of fixed choices (value, label).
    Choice(&'static [(&'static str, &'static str)]),
}

/// One field of an edit form.
pub struct Field {
    /// The field's name in the form (the API's field name).
    pub name: &'static str,
    /// Its label.
    pub label: &'static str,
    /// How it is entered.
    pub input: Input,
    /// Its current value.
    pub value: String,
    /// Whether it must be filled.
    pub required: bool,
    /// `false`: shown, not editable (e.g. a short name after creation).
    pub editable: bool,
    /// A line of help under it (`""`: none).
    pub hint: &'static str,
}

/// One of my organisations.
pub struct OrgRow {
    /// The organisation's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its short name.
    pub short_name: String,
    /// My role there.
    pub role: String,
    /// Whether it is approved.
    pub approved: bool,
}

/// The outbox at a glance (a superadmin's page).
pub struct OutboxSummary {
    /// Messages waiting (not sent, not given up).
    pub pending: i64,
    /// Of those, how many failed at least once.
    pub retrying: i64,
    /// Messages given up.
    pub given_up: i64,
    /// Messages sent.
    pub sent: i64,
    /// How long the oldest waiting message has waited, in seconds.
    pub oldest_pending_seconds: Option<i64>,
}

/// One unsent message.
pub struct OutboxRow {
    /// What happened (`join_requested`, …).
    pub event: String,
    /// To whom.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// `pending`, `retrying` or `given_up`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When written.
    pub created_at: String,
    /// The last failure's reason, if any.
    pub last_error: String,
}

/// One of an organisation's webhook endpoints.
pub struct WebhookRow {
    /// Its id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// What it hears, space-separated.
    pub events: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Failed deliveries in a row.
    pub failures: i64,
    /// Why it was disabled (`""`: it was not).
    pub disabled_reason: String,
}

/// A secret shown once (a new webhook's, or a rotated one's).
pub struct ShownSecret<'a> {
    /// What it belongs to.
    pub label: &'a str,
    /// The secret.
    pub secret: &'a str,
}

/// What the signed-in user may do on an organisation (from the permission table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgRights {
    /// May change its metadata.
    pub update: bool,
    /// May delete it.
    pub delete: bool,
    /// May give, change and remove roles, and answer join requests.
    pub manage_people: bool,
    /// May register datasets.
    pub create_dataset: bool,
    /// A superadmin, who may approve it.
    pub approve: bool,
}

/// One dataset of an organisation's page.
pub struct DatasetRow {
    /// The dataset's id.
    pub id: String,
    /// Its title.
    pub name: String,
    /// Its short name.
    pub short_name: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Its file's URL.
    pub url: String,
}

/// A member or a join request on an organisation's page.
pub struct Person {
    /// The user's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their role.
    pub role: String,
}

/// A tool granted on an organisation.
pub struct ToolRow {
    /// The tool's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// An organisation's page.
pub struct OrgPage {
    /// The organisation's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it is approved.
    pub approved: bool,
    /// My role there (`""`: none).
    pub my_role: String,
    /// Its metadata, as an edit form.
    pub fields: Vec<Field>,
    /// What I may do there.
    pub rights: OrgRights,
    /// Its datasets.
    pub datasets: Vec<DatasetRow>,
    /// Members (not pending).
    pub people: Vec<Person>,
    /// Join requests (`contributor_pending`).
    pub pending: Vec<Person>,
    /// Tools granted there.
    pub tools: Vec<ToolRow>,
}

/// A dataset's form: new (`id` is `None`) or existing.
pub struct DatasetPage {
    /// The owning organisation's id.
    pub org_id: String,
    /// Its name.
    pub org_name: String,
    /// The dataset's id (`None`: a new dataset).
    pub id: Option<String>,
    /// Its metadata, as an edit form.
    pub fields: Vec<Field>,
    /// May change it.
    pub can_update: bool,
    /// May delete it.
    pub can_delete: bool,
}

/// An organisation found by the join search.
pub struct FoundOrg {
    /// The organisation's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its short name.
    pub short_name: String,
    /// Its country.
    pub country: String,
    /// My standing there already (`""`: none).
    pub my_role: String,
}

/// One of my API keys.
pub struct KeyRow {
    /// The key's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The first characters of its secret.
    pub prefix: String,
    /// When it was made.
    pub created_at: String,
    /// When it expires (`""`: never).
    pub expires_at: String,
    /// Its status as the API answers it (`active`, `revoked`, …).
    pub status: String,
    /// Bound to this console session (it stops when the session ends).
    pub session_bound: bool,
}

/// A key just made: its secret, shown on this page only.
pub struct NewKey<'a> {
    /// The key's name.
    pub name: &'a str,
    /// Its secret.
    pub secret: &'a str,
}
