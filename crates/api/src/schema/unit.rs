//! Responsible units (责任单位).

use async_graphql::{ComplexObject, ID, SimpleObject};
use sqlx::FromRow;

use super::enums::UnitKind;
use super::relay::global_id;
use super::scalars::DateTime;
use crate::db::{Database, Dialect};
use crate::error::ApiResult;
use crate::on_db;

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

fn select(d: Dialect) -> String {
    format!(
        "SELECT unit_id, name, unit_kind, {} AS created_at, {} AS updated_at FROM {}",
        d.timestamp("created_at"),
        d.timestamp("updated_at"),
        d.table("units")
    )
}

pub async fn load(db: &Database, unit_id: &str) -> ApiResult<Option<Unit>> {
    let sql = crate::sql!("{} WHERE unit_id = $1", select(Dialect::of(db)));
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Unit>(sql)
        .bind(unit_id)
        .fetch_optional(pool)
        .await)?)
}

pub async fn all(db: &Database) -> ApiResult<Vec<Unit>> {
    let sql = crate::sql!("{} ORDER BY unit_id", select(Dialect::of(db)));
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Unit>(sql)
        .fetch_all(pool)
        .await)?)
}
