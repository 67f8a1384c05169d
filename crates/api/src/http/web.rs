//! The web workspace's way into the API: its pages run this schema in-process as the signed-in
//! caller, so access control, figures and errors are exactly those of `/graphql`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Variables;
use auth::{AuthError, Identity};
use serde_json::{Map, Value, json};

use super::Shared;
use super::graphql::describe;
use crate::error::class;

pub struct InProcess(pub Arc<Shared>);

impl ::web::Backend for InProcess {
    async fn authenticate(&self, token: Option<&str>, peer: IpAddr) -> Result<Identity, AuthError> {
        let header = token.map(|t| format!("Bearer {t}"));
        self.0
            .state
            .gate
            .authenticate_header(header.as_deref(), Some(peer))
            .await
    }

    async fn execute(&self, identity: &Identity, query: &str, variables: Value) -> Value {
        let state = &self.0.state;
        let request = async_graphql::Request::new(query)
            .variables(Variables::from_json(variables))
            .data(identity.clone());
        // As over HTTP: the execution bound, plus the read-model wait for mutations (a page's
        // write must never look failed because the wait used up the execution time).
        let timeout = Duration::from_millis(state.config.serve.limits.max_execution_ms)
            + state.config.write_wait();
        let Ok(response) = tokio::time::timeout(timeout, self.0.schema.execute(request)).await
        else {
            return json!({"data": null, "errors": [{
                "message": "the operation ran too long and was stopped",
                "extensions": {"code": class::LIMIT_EXCEEDED, "class": class::LIMIT_EXCEEDED, "messageZh": "操作执行超时，已终止"},
            }]});
        };
        let mut body = Map::new();
        body.insert(
            "data".into(),
            serde_json::to_value(&response.data).unwrap_or(Value::Null),
        );
        if !response.errors.is_empty() {
            body.insert(
                "errors".into(),
                Value::Array(response.errors.iter().map(describe).collect()),
            );
        }
        Value::Object(body)
    }
}
