//! GraphQL enums. Those of the domain's vocabulary map one to one onto the domain's enums (the
//! reporting tables store the same snake_case words, which is how rows are read back).

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// Declares a GraphQL enum, its reading from the snake_case word stored in `reporting.*`, and
/// (with `=> path`) the conversion into the domain's enum of the same variants.
macro_rules! gql_enum {
    ($(#[doc = $doc:literal])* $name:ident => $domain:path { $($(#[doc = $vdoc:literal])* $variant:ident),+ $(,)? }) => {
        gql_enum!($(#[doc = $doc])* $name { $($(#[doc = $vdoc])* $variant),+ });

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$domain>::$variant),+ }
            }
        }
    };
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "text", rename_all = "snake_case")]
        pub enum $name { $($(#[doc = $vdoc])* $variant),+ }

        impl $name {
            /// The word stored in the reporting tables.
            pub fn db(self) -> String {
                word_of(self)
            }
            /// From the stored word; `None` for a word this build does not know.
            pub fn from_db(word: &str) -> Option<Self> {
                from_word(word)
            }
        }
    };
}

gql_enum!(
    /// Kind of project. 项目类型
    ProjectKind => domain::project::ProjectKind {
        /// Attracted investment. 招商引资
        Attracted,
        /// Government investment. 政府投资
        Government,
        /// Expansion or upgrade of an existing enterprise. 技改扩建
        Expansion,
    }
);
gql_enum!(
    /// Type of investor. 投资方类型
    InvestorType => domain::project::InvestorType {
        /// Central state-owned enterprise. 央企
        CentralSoe,
        /// Provincial state-owned enterprise. 省企
        ProvincialSoe,
        /// Private enterprise. 民企
        Private,
        /// Foreign investor. 外资
        Foreign,
        /// Other. 其他
        Other,
    }
);
gql_enum!(
    /// Kind of contact with an investor. 对接方式
    ContactKind => domain::project::ContactKind {
        /// Visit. 走访
        Visit,
        /// Negotiation. 洽谈
        Negotiation,
        /// Promotion event. 推介
        Promotion,
    }
);
gql_enum!(
    /// Kind of agreement. 协议类型
    AgreementKind => domain::project::AgreementKind {
        /// Framework agreement. 框架协议
        Framework,
        /// Formal contract. 正式合同
        Formal,
        /// Supplementary agreement. 补充协议
        Supplement,
    }
);
gql_enum!(
    /// Approval route of the project code. 审批方式
    ApprovalRoute => domain::project::ApprovalRoute {
        /// Approval. 审批
        Approval,
        /// Verification. 核准
        Verification,
        /// Filing. 备案
        Filing,
    }
);
gql_enum!(
    /// Approval item obtained before construction. 前期审批事项
    ApprovalItem => domain::project::ApprovalItem {
        /// Land-use planning permit. 用地规划许可证
        LandUsePlanning,
        /// Engineering planning permit. 工程规划许可证
        EngineeringPlanning,
        /// Construction permit. 施工许可证
        ConstructionPermit,
        /// Environmental assessment. 环评批复
        Environmental,
        /// Energy assessment. 能评批复
        Energy,
        /// Other. 其他
        Other,
    }
);
gql_enum!(
    /// Kind of annual plan. 计划类型
    PlanKind => domain::project::PlanKind {
        /// The plan set at the start of the year. 年初计划
        Original,
        /// A revised plan (needs a reason). 调整计划
        Revised,
    }
);
gql_enum!(
    /// Kind of production start. 投产类型
    ProductionKind => domain::project::ProductionKind {
        /// Partial production. 部分投产
        Partial,
        /// Full production. 全面投产
        Full,
    }
);
gql_enum!(
    /// Status of a project. 项目状态
    ProjectStatus => domain::project::ProjectStatus {
        /// Progressing normally. 正常推进
        Active,
        /// Behind schedule. 滞后
        Delayed,
        /// Stalled. 停滞
        Dormant,
        /// Abandoned; left out of every figure. 终止
        Abandoned,
    }
);
gql_enum!(
    /// Kind of responsible unit. 单位类型
    UnitKind => domain::unit::UnitKind {
        /// Township. 乡镇
        Township,
        /// County department. 县直部门
        Department,
        /// Industrial park. 园区
        Park,
        /// Other. 其他
        Other,
    }
);
gql_enum!(
    /// A target metric of the annual targets. 目标指标
    TargetMetric => domain::targets::TargetMetric {
        /// Completed investment, yuan. 完成投资
        CompletedInvestment,
        /// Funds in place, yuan. 到位资金
        FundsInPlace,
        /// Projects signed (count). 签约项目数
        SignedProjects,
        /// Investment signed, yuan. 签约金额
        SignedInvestment,
        /// Projects of 1亿 or more signed (count). 亿元以上签约项目数
        BigProjectsSigned,
        /// Projects started (count). 新开工项目数
        StartedProjects,
        /// Projects in production (count). 投产项目数
        ProductionProjects,
        /// Area expropriated, mu. 征收面积（亩）
        ExpropriatedArea,
    }
);
gql_enum!(
    /// Category of a supervision item. 督办类别
    SupervisionCategory => domain::supervision::SupervisionCategory {
        /// Land expropriation. 征迁
        Expropriation,
        /// Factor support (power, water, land). 要素保障
        FactorSupport,
        /// Approvals. 审批
        Approval,
        /// Funding. 资金
        Funding,
        /// Other. 其他
        Other,
    }
);
gql_enum!(
    /// Kind of accountability action. 问责类型
    AccountabilityKind => domain::supervision::AccountabilityKind {
        /// Admonitory interview. 约谈
        Interview,
        /// Public notice. 通报
        Notice,
        /// Accountability. 问责
        Accountability,
        /// Adjustment. 调整
        Adjustment,
    }
);
gql_enum!(
    /// Lifecycle stage, derived from the project's facts. 项目阶段
    Stage {
        /// A lead. 线索
        Lead,
        /// Negotiating. 洽谈中
        Negotiating,
        /// Framework agreement signed. 框架签约
        FrameworkSigned,
        /// Formal contract signed. 正式签约
        Contracted,
        /// Under construction. 在建
        UnderConstruction,
        /// Construction completed. 竣工
        Completed,
        /// In production. 投产
        InProduction,
    }
);
gql_enum!(
    /// Traffic light of progress (DOMAIN.md's bands). 红黄绿灯
    Light {
        /// On track. 绿灯
        Green,
        /// Lagging. 黄灯
        Yellow,
        /// Seriously lagging. 红灯
        Red,
    }
);
gql_enum!(
    /// Status of a supervision item. 督办状态
    SupervisionStatus {
        /// Open. 办理中
        Open,
        /// Closure requested. 申请销号
        ClosureRequested,
        /// Closed out. 已销号
        Closed,
    }
);

/// Size class by contract investment, else intended investment. 规模分类
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text")]
pub enum SizeClass {
    /// Below 5 million yuan. 500万元以下
    #[graphql(name = "BELOW_5M")]
    #[serde(rename = "below_5m")]
    #[sqlx(rename = "below_5m")]
    Below5m,
    /// 5 to 10 million yuan. 500万–1000万元
    #[graphql(name = "FROM_5M_TO_10M")]
    #[serde(rename = "5m_10m")]
    #[sqlx(rename = "5m_10m")]
    From5mTo10m,
    /// 10 to 100 million yuan. 1000万–1亿元
    #[graphql(name = "FROM_10M_TO_100M")]
    #[serde(rename = "10m_100m")]
    #[sqlx(rename = "10m_100m")]
    From10mTo100m,
    /// 100 million to 1 billion yuan. 1亿–10亿元
    #[graphql(name = "FROM_100M_TO_1B")]
    #[serde(rename = "100m_1b")]
    #[sqlx(rename = "100m_1b")]
    From100mTo1b,
    /// 1 billion yuan or more. 10亿元以上
    #[graphql(name = "FROM_1B")]
    #[serde(rename = "from_1b")]
    #[sqlx(rename = "from_1b")]
    From1b,
}

impl SizeClass {
    pub fn db(self) -> String {
        word_of(self)
    }
    pub fn from_db(word: &str) -> Option<Self> {
        from_word(word)
    }
}

/// The serde word of a unit-like enum value.
fn word_of<T: Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_word<T: serde::de::DeserializeOwned>(word: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(word.to_owned())).ok()
}

/// Sort direction. 排序方向
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    /// Ascending. 升序
    #[default]
    Asc,
    /// Descending. 降序
    Desc,
}
