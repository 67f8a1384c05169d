//! Responsible units (责任单位).

use async_graphql::{ComplexObject, ID, SimpleObject};
use sqlx::{FromRow, PgPool};

use super::enums::UnitKind;
use super::project::ts;
use super::relay::global_id;
use super::scalars::DateTime;
use crate::error::ApiResult;

/// A responsible unit: a township, department or park (责任单位).
#[derive(SimpleObject, FromRow, Debug, Clone)]
#[graphql(complex)]
pub struct Unit {
    /// The unit's slug, e.g. `xinan-town` (stream `unit-<slug>`). 单位标识
    pub unit_id: String,
    /// Current name. 单位名称
    pub name: String,
    /// Kind of unit. 单位类型
    #[graphql(name = "kind")]
    pub unit_kind: UnitKind,
    /// When it was created in the ledger. 创建时间
    pub created_at: DateTime,
    /// When it last changed. 更新时间
    pub updated_at: DateTime,
}

#[ComplexObject]
impl Unit {
    /// Global ID (Relay). 全局 ID
    pub async fn id(&self) -> ID {
        global_id("Unit", &self.unit_id)
    }
}

fn select() -> String {
    format!(
        "SELECT unit_id, name, unit_kind, {} AS created_at, {} AS updated_at FROM reporting.units",
        ts("created_at"),
        ts("updated_at")
    )
}

pub async fn load(pool: &PgPool, unit_id: &str) -> ApiResult<Option<Unit>> {
    Ok(
        sqlx::query_as::<_, Unit>(crate::sql!("{} WHERE unit_id = $1", select()))
            .bind(unit_id)
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn all(pool: &PgPool) -> ApiResult<Vec<Unit>> {
    Ok(
        sqlx::query_as::<_, Unit>(crate::sql!("{} ORDER BY unit_id", select()))
            .fetch_all(pool)
            .await?,
    )
}
