//! A call to one of the API's routes from inside the application (IATI Account's pages act
//! through them), by a typed handle on the route (`routes::lookup`), not a formatted path.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{form_encode, percent_encode, Request};
use crate::ports::Ports;
use crate::routes::Route;
use crate::Reply;
use serde_json::Value;

/// One call: the route, its path parameters in the pattern's order, a query, a JSON body.
#[must_use]
pub struct Call {
    route: &'static Route,
    args: Vec<String>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Call {
    /// A call of `route`, with no parameters yet.
    pub fn to(route: &'static Route) -> Call {
        Call { route, args: Vec::new(), query: Vec::new(), body: None }
    }

    /// The next `{parameter}` of the route's pattern.
    pub fn arg(mut self, value: impl Into<String>) -> Call {
        self.args.push(value.into());
        self
    }

    /// A query parameter.
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.query.push((name, value.into()));
        self
    }

    /// The JSON body.
    pub fn body(mut self, body: Value) -> Call {
        self.body = Some(body);
        self
    }

    /// The route's method.
    pub fn method(&self) -> &'static str {
        self.route.method
    }

    /// Runs the call as `caller` through [`crate::dispatch`] (the same checks and handler as
    /// a token's request), on a request carrying `base`'s origin.
    pub fn run(self, base: &Request, ports: &dyn Ports, caller: Caller, now_millis: i64) -> ApiResult<Reply> {
        let route = self.route;
        let names: Vec<&'static str> =
            route.pattern.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        if names.len() != self.args.len() {
            return Err(ApiError::internal(format!(
                "{} {} takes {} parameters, called with {}",
                route.method,
                route.pattern,
                names.len(),
                self.args.len()
            )));
        }
        let mut args = self.args.iter();
        let path: Vec<String> = route
            .pattern
            .split('/')
            .map(|s| match s.starts_with('{') {
                true => percent_encode(args.next().map_or("", String::as_str)),
                false => s.to_string(),
            })
            .collect();
        let query: Vec<(&str, &str)> = self.query.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let mut req = Request::new(route.method, &path.join("/"));
        req.query = form_encode(&query);
        req.base_url = base.base_url.clone();
        if let Some(body) = self.body {
            req = req.with_header("content-type", "application/json").with_body(body.to_string());
        }
        let params = names.into_iter().zip(self.args).collect();
        crate::serve::dispatch(route, params, &req, ports, caller, now_millis)
    }
}
