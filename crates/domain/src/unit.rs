//! Responsible units (责任单位): townships, departments, industrial parks. Stream `unit-<slug>`.

use crate::codes::UniqueKey;
use crate::context::Context;
use crate::error::{DomainError, ErrorCode, require_text};
use crate::event::{events, vocabulary};
use crate::period::{iso_date, not_in_future};
use serde::{Deserialize, Serialize};
use time::Date;

events! {
    UnitEvent {
        UnitCreated = 1,
        UnitRenamed = 1,
    }
}

vocabulary!(UnitKind {
    /// 乡镇
    Township,
    /// 部门
    Department,
    /// 园区
    Park,
    Other,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCreated {
    pub name: String,
    pub kind: UnitKind,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRenamed {
    pub name: String,
    pub reason: String,
    #[serde(with = "iso_date")]
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "data", rename_all = "snake_case")]
pub enum UnitCommand {
    Create(UnitCreated),
    Rename(UnitRenamed),
}

impl UnitCommand {
    /// Unit names are unique: creating or renaming reserves the name (trimmed) under the key
    /// stream `unitname-<name>`, so that two units never share one, even when created at the
    /// same moment. A unit's earlier names stay reserved to it: a report naming 城关镇 keeps
    /// meaning one unit, and the unit may take its old name back.
    pub fn unique_keys(&self) -> Vec<UniqueKey> {
        let name = match self {
            UnitCommand::Create(c) => &c.name,
            UnitCommand::Rename(c) => &c.name,
        };
        vec![UniqueKey {
            kind: "unitname",
            key: name.trim().to_owned(),
            field: "name",
            taken: ErrorCode::UnitNameTaken,
            holder_zh: "单位",
        }]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
}

pub fn apply(mut s: Unit, event: &UnitEvent) -> Unit {
    match event {
        UnitEvent::UnitCreated(e) => {
            s.name = Some(e.name.clone());
            s.kind = Some(e.kind);
        }
        UnitEvent::UnitRenamed(e) => s.name = Some(e.name.clone()),
    }
    s
}

pub fn decide(s: &Unit, cmd: &UnitCommand, ctx: &Context) -> Result<Vec<UnitEvent>, DomainError> {
    ctx.require_actor()?;
    let event: UnitEvent = match cmd {
        UnitCommand::Create(c) => {
            if s.name.is_some() {
                return Err(DomainError::new(
                    ErrorCode::UnitAlreadyExists,
                    "unit_id",
                    "a unit with this id already exists",
                    "该单位标识已存在",
                ));
            }
            require_text("name", &c.name)?;
            not_in_future("date", c.date, ctx.today)?;
            c.clone().into()
        }
        UnitCommand::Rename(c) => {
            let Some(name) = &s.name else {
                return Err(DomainError::new(
                    ErrorCode::UnitNotFound,
                    "unit_id",
                    "no such unit",
                    "该单位不存在",
                ));
            };
            require_text("name", &c.name)?;
            if *name == c.name {
                return Err(DomainError::new(
                    ErrorCode::NameUnchanged,
                    "name",
                    "the unit already has this name",
                    "单位名称未变化",
                ));
            }
            require_text("reason", &c.reason)?;
            not_in_future("date", c.date, ctx.today)?;
            c.clone().into()
        }
    };
    Ok(vec![event])
}
