#![warn(missing_docs)]
//! IATI Account's browser side (issue 18), as rules a component applies (whether a session
//! is still on is the store's one SELECT: `ryd_store::sessions`): nothing here
//! touches Spin, HTTP or SQL; callers bring the time, the randomness's output and the
//! verified token claims.
//!
//! - [`secret`]: 256-bit random values (session ids, PKCE verifiers, `state`, `nonce`, CSRF
//!   tokens), their S256 form, and the hash a session id is stored under.
//! - [`cookie`]: the `__Host-` cookies (session, sign-in state) as OWASP's session
//!   management cheat sheet sets them, and reading them back from a `Cookie` header.
//! - [`csrf`]: the synchronizer token and the `Origin`/`Sec-Fetch-Site` checks on every
//!   state-changing request of the console.
//! - [`paths`]: where a browser may be sent after sign-in (local paths only).
//! - [`oidc`]: OIDC Core §3.1.3.7's checks of an ID token and Back-Channel Logout 1.0
//!   §2.6's of a logout token, on claims whose signature the caller has verified.
//! - [`signin`]: the authorization code flow's requests as a confidential client with
//!   PKCE (the authorization URL, the code exchange), and the token endpoint's answer.

pub mod cookie;
pub mod csrf;
pub mod oidc;
pub mod paths;
pub mod secret;
pub mod signin;

pub use cookie::{cookie_value, CookieSpec, LOGIN_COOKIE, SESSION_COOKIE};
pub use csrf::{origin_of, same_origin, token_matches, CrossSite};
pub use oidc::{check_id_token, check_logout_token, ClaimError, IdToken, LogoutTarget, LogoutToken, RelyingParty};
pub use paths::local_return_path;
pub use secret::{constant_time_eq, random_token, s256, session_hash};
pub use signin::{end_session_url, read_token_response, token_request, Authorize, Tokens};
